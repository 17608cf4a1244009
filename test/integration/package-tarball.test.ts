import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/engine-process.ts';

// A host with only Node installs the CLI and the agent from `npm pack`'s tarball
// (`npm install -g ./lifeline-<version>.tgz`): it must hold the compiled code and the migrations,
// and everything that code imports must come with it as a dependency. Reads the dist/ that
// `npm ci` (prepare) or `npm test` (pretest) built.

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

function packedFiles(): string[] {
  // --ignore-scripts: the list, without building dist/ again (prepare).
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  return (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
}

function compiled(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? compiled(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** The package a bare import names: `bullmq`, `@hono/node-server`, `hono` of `hono/jsx`. */
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

describe('the npm pack tarball', () => {
  it('holds the CLI, its compiled code and the migrations, and no tests or TypeScript sources', () => {
    const files = packedFiles();
    for (const bin of Object.values(pkg.bin)) assert.ok(files.includes(bin), `${bin} is packed`);
    assert.ok(files.includes('dist/src/cli/main.js'), 'the compiled CLI the bin runs is packed');
    for (const js of compiled('dist')) assert.ok(files.includes(js), `${js} is packed`);
    for (const sql of readdirSync(join(ROOT, 'sql'))) assert.ok(files.includes(`sql/${sql}`), `sql/${sql} is packed (lifeline migrate)`);
    assert.deepEqual(files.filter((f) => /^(test|src|workers|alerting)\//.test(f)), [], 'no sources or tests');
  });

  it('declares every package its compiled code imports as a dependency', () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const js of compiled('dist')) {
      const source = readFileSync(join(ROOT, js), 'utf8');
      for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^;]*?\bfrom\s+['"]([^'"./][^'"]*)['"]|import\(\s*['"]([^'"./][^'"]*)['"]\s*\)/gm)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        seen.add(packageOf(spec));
        if (!declared.has(packageOf(spec))) missing.add(`${packageOf(spec)} (${js})`);
      }
    }
    for (const used of ['commander', 'postgres', 'bullmq', 'pg']) assert.ok(seen.has(used), `the scan finds the import of ${used}`);
    assert.deepEqual([...missing], [], 'imported by the compiled code but only a devDependency, or not declared');
  });
});
