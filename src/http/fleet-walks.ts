// The fleet uptime report a page at a time: a walk's selection is computed once, on its first
// page, and kept briefly for the pages after it, which its cursors point into.

import { LRUCache } from 'lru-cache';
import type { FleetUptimeItem } from '../api/shapes.ts';
import type { Clock } from '../clock.ts';
import type { LabelPair } from '../nodes/model.ts';
import type { Window } from '../uptime/windows.ts';

export const FLEET_SORTS = ['name', 'worst'] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

/** A selected node as kept: its answer's item but its seconds, which are at `at` in the selection's `seconds`. */
export type KeptItem = Omit<FleetUptimeItem, 'seconds'> & { at: number };

/**
 * What a walk's pages are cut from: the fleet's ratio and every selected node in the sort's order,
 * their seconds per state in one array (NODE_STATES' order, a node's five from `at * 5`): five
 * numbers in an object of their own cost ~170 bytes a node, in this array 40.
 */
export interface FleetSelection {
  uptime_ratio: number | null;
  items: KeptItem[];
  seconds: Float64Array;
}

/** What determines a selection. */
export interface WalkKey {
  /** Every one of these; in any order the same walk (the key sorts them). */
  labels: readonly LabelPair[] | undefined;
  window: Window;
  sort: FleetSort;
}

/*
 * Bounds, in items (one selected node each): ~200 bytes of heap apiece (a uuid, an 11-character
 * name, a ratio: ~160 as the driver hands them over, measured on 100,000; its five per-state
 * seconds: 40 in the selection's array), up to ~320 with 128-character names. 300,000 items is
 * ~60 MB, ~95 MB at worst: three 100,000-node walks side by side. One walk holds at most half of
 * it, so a label-less walk over a large fleet evicts at most half of the others; a bigger
 * selection is not kept at all and each of its pages is computed afresh (at ~43 µs a node,
 * 150,000 nodes is ~6.5 s a page: such a fleet is asked per label). Entries last a
 * minute: a client reading pages of 100 back to back walks 100,000 nodes in far less, and a walk's
 * later pages show no more than a minute-old reading of its window's past.
 */
const MAX_ITEMS = 300_000;
const MAX_WALK_ITEMS = MAX_ITEMS / 2;
const TTL_MS = 60_000;

/**
 * Selections per walk, computed by `load` on a miss. Concurrent misses for one walk share a single
 * load (lru-cache's fetch). The window is in the key and in every cursor, so a later page served by
 * another process (or after expiry) is computed afresh over the same window: the same exact answer,
 * bar transitions stamped into that window's past meanwhile. Expiry follows the engine's clock.
 */
export class FleetWalks {
  private readonly lru: LRUCache<string, FleetSelection, WalkKey>;

  constructor(o: { clock: Clock; load: (walk: WalkKey) => Promise<FleetSelection>; maxItems?: number; maxWalkItems?: number }) {
    this.lru = new LRUCache<string, FleetSelection, WalkKey>({
      maxSize: o.maxItems ?? MAX_ITEMS,
      maxEntrySize: o.maxWalkItems ?? MAX_WALK_ITEMS,
      // The entry itself (its selection object, the cache's bookkeeping) and its key count too, in
      // ~200-byte items: otherwise walks over labels that select nothing, each with a label a few
      // kilobytes long, would be kept by the hundred thousand.
      sizeCalculation: (s, key) => s.items.length + 1 + Math.ceil(key.length / 80),
      ttl: TTL_MS,
      ttlResolution: 0,
      perf: { now: () => o.clock.now().getTime() },
      fetchMethod: (_key, _stale, { context }) => o.load(context),
      // A first page still loading when other walks push its entry out would otherwise be aborted
      // and its request failed (a 500 for a ~4 s load at 100,000 nodes); it answers, unkept.
      ignoreFetchAbort: true,
    });
  }

  async get(walk: WalkKey): Promise<FleetSelection> {
    // fetch() answers with the loaded value even when it is too large to keep.
    return (await this.lru.fetch(keyOf(walk), { context: walk }))!;
  }

  /** Drops a walk no page will follow (its first page held every item), so it takes no room. */
  forget(walk: WalkKey): void {
    this.lru.delete(keyOf(walk));
  }
}

const keyOf = (walk: WalkKey) => JSON.stringify([(walk.labels ?? []).map((l) => [l.key, l.value]).sort(), walk.window.from, walk.window.to, walk.sort]);
