import type { Sql } from '../db/client.ts';
import { PUBLIC_CACHES, PUBLIC_CHANNEL, type PublicCacheName } from '../statuspages/model.ts';

/**
 * The api process's ear for changes to what its public caches keep (status pages, badges). Writers
 * in any process NOTIFY in the transaction of the change (src/statuspages/store.ts), so every
 * listening process forgets as the change commits, the writer's own included; a process that
 * (re)connects forgets everything, since it may have missed notices meanwhile.
 */
export class PublicChanges {
  private readonly forgetters: Array<(cache: PublicCacheName) => void> = [];

  constructor(private readonly sql: Sql) {}

  /** `forget` is told the name of each cache that may now be wrong. */
  onChange(forget: (cache: PublicCacheName) => void): void {
    this.forgetters.push(forget);
  }

  /** Starts listening; returns the way to stop. */
  async listen(): Promise<() => Promise<void>> {
    const l = await this.sql.listen(PUBLIC_CHANNEL, (payload) => this.heard(payload), () => this.forget(PUBLIC_CACHES));
    return () => l.unlisten();
  }

  /**
   * What the writing process forgets before it answers: its own NOTIFY comes back a moment later,
   * or not until its listen connection is back if that is down.
   */
  changed(caches: readonly PublicCacheName[] = PUBLIC_CACHES): void {
    this.forget(caches);
  }

  private heard(payload: string): void {
    // A name this version does not know (a newer writer's) forgets everything: never too little.
    this.forget(PUBLIC_CACHES.includes(payload as PublicCacheName) ? [payload as PublicCacheName] : PUBLIC_CACHES);
  }

  private forget(caches: readonly PublicCacheName[]): void {
    for (const cache of caches) for (const forget of this.forgetters) forget(cache);
  }
}
