import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Imports point down (ARCHITECTURE.md, "Rooms"): infrastructure < models < stores < services <
// adapters (HTTP, server-rendered pages — the console and the public ones —, outbox handlers, the
// CLI, metrics) < workers/. alerting/ sits beside the models: it may use them and infrastructure,
// and only services and what is above them may use it.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const LAYERS = ['infrastructure', 'model', 'alerting', 'store', 'service', 'adapter', 'worker'] as const;
type Layer = (typeof LAYERS)[number];

/** Infrastructure: what every room stands on, knowing no room. */
const INFRASTRUCTURE = /^src\/(db\/|embedded\/|queue\/|(clock|coalescer|config|errors|events|invisible|local-time|logger|loop|package-files|secrets|settles|shell-word|uncaught|utf8-boundary)\.ts$)/;

/**
 * The pure modules of rooms besides model.ts: rules and shapes that take what they need as
 * arguments, so stores and other models may use them.
 */
const PURE = [
  'src/api/shapes.ts',
  'src/health/decide.ts',
  'src/health/cron-deadline.ts',
  'src/incidents/action-links.ts',
  'src/incidents/categorize.ts',
  'src/incidents/events.ts',
  'src/incidents/resolve-note.ts',
  'src/incidents/shown-actor.ts',
  'src/incidents/still-failing.ts',
  'src/incidents/view.ts',
  'src/oncall/escalation.ts',
  'src/oncall/schedule.ts',
  'src/outbox/topics.ts',
  'src/uptime/buckets.ts',
  'src/uptime/intervals.ts',
  'src/uptime/percent.ts',
  'src/uptime/retention.ts',
  'src/uptime/rollup-plan.ts',
  'src/uptime/state-time.ts',
  'src/uptime/summary.ts',
  'src/uptime/window-plan.ts',
  'src/uptime/windows.ts',
];

function layerOf(file: string): Layer {
  if (file.startsWith('workers/')) return 'worker';
  if (file.startsWith('alerting/')) return 'alerting';
  if (INFRASTRUCTURE.test(file)) return 'infrastructure';
  if (/^src\/(http|cli|web|console)\//.test(file) || file === 'src/metrics.ts' || /^src\/[^/]+\/handlers\.ts$/.test(file)) return 'adapter';
  if (/^src\/[^/]+\/model\.ts$/.test(file) || PURE.includes(file)) return 'model';
  if (/^src\/[^/]+\/store(-[^/]+)?\.ts$/.test(file)) return 'store';
  if (/^src\/[^/]+\/[^/]+\.ts$/.test(file)) return 'service';
  throw new Error(`${file}: no layer; say in test/unit/layers.test.ts where it belongs`);
}

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: Layer, to: Layer): string | undefined {
  if (from === 'alerting') return to === 'infrastructure' || to === 'model' || to === 'alerting' ? undefined : 'alerting uses only models and infrastructure';
  if (to === 'alerting') return from === 'service' || from === 'adapter' || from === 'worker' ? undefined : 'only services and above use alerting';
  return LAYERS.indexOf(to) > LAYERS.indexOf(from) ? `points up: ${from} → ${to}` : undefined;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

// Static import and export-from statements (a statement has no `=`, `;` or parentheses before its
// `from`), and side-effect imports. Dynamic imports of relative paths are not used in these folders.
const IMPORT = /^(?:import|export)\s[^;=()]*?\bfrom\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm;

function relativeImports(source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!).filter((spec) => spec.startsWith('.'));
}

/** Every import in src/, workers/ and alerting/ (.ts and .tsx) that points up, as "file imports spec (why)". */
function upwardImports(): string[] {
  const problems: string[] = [];
  for (const file of ['src', 'workers', 'alerting'].flatMap(sources)) {
    const from = layerOf(file);
    for (const spec of relativeImports(readFileSync(join(ROOT, file), 'utf8'))) {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec));
      const why = violation(from, layerOf(target));
      if (why) problems.push(`${file} imports '${spec}' (${why})`);
    }
  }
  return problems;
}

describe('layers', () => {
  it('no module imports a layer above its own', () => {
    assert.deepEqual(upwardImports(), []);
  });

  it('names every pure module that exists', () => {
    assert.deepEqual(PURE.filter((f) => !existsSync(join(ROOT, f))), []);
  });

  it('reads the imports a module can write', () => {
    const source = [
      "import type { A } from './a.ts';",
      'import {\n  b,\n  type C,\n} from "../b.ts";',
      "export { d } from './d.ts';",
      "export * from './e.ts';",
      "import './f.ts';",
      "import { g } from 'postgres';",
      "export const h = 'from ./not-an-import.ts';",
      "// import { i } from './commented.ts' is not at the start of a line",
    ].join('\n');
    assert.deepEqual(relativeImports(source), ['./a.ts', '../b.ts', './d.ts', './e.ts', './f.ts']);
  });

  it('tells the layers apart and refuses what points up', () => {
    assert.equal(layerOf('src/nodes/store.ts'), 'store');
    assert.equal(layerOf('src/uptime/store-log.ts'), 'store');
    assert.equal(layerOf('src/nodes/service.ts'), 'service');
    assert.equal(layerOf('src/incidents/handlers.ts'), 'adapter');
    assert.equal(layerOf('src/web/status-page.tsx'), 'adapter');
    assert.equal(layerOf('src/db/client.ts'), 'infrastructure');
    assert.equal(layerOf('src/health/decide.ts'), 'model');
    assert.equal(violation('store', 'service'), 'points up: store → service');
    assert.equal(violation('model', 'store'), 'points up: model → store');
    assert.equal(violation('service', 'worker'), 'points up: service → worker');
    assert.equal(violation('infrastructure', 'alerting'), 'only services and above use alerting');
    assert.equal(violation('store', 'alerting'), 'only services and above use alerting');
    assert.equal(violation('alerting', 'store'), 'alerting uses only models and infrastructure');
    assert.equal(violation('service', 'store'), undefined);
    assert.equal(violation('service', 'alerting'), undefined);
    assert.equal(violation('alerting', 'model'), undefined);
  });
});
