import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isolateRefused } from '../../src/ingest/isolate.ts';

// What postgres.js throws: an Error carrying the SQLSTATE in `code`.
const pgError = (code: string) => Object.assign(new Error(`refused (${code})`), { code });

/** A stand-in for one statement over a group: it fails when the group holds a bad row. */
function writer(bad: Map<number, string>) {
  const groups: number[][] = [];
  const attempt = async (group: number[]) => {
    groups.push(group);
    const hit = group.find((r) => bad.has(r));
    if (hit !== undefined) throw pgError(bad.get(hit)!);
    return group.length;
  };
  return { groups, attempt };
}

const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('isolateRefused', () => {
  it('finds one bad row among 5,000 in at most 2·⌈log2 n⌉ attempts, wherever it sits', async () => {
    const n = 5000;
    const bound = 2 * Math.ceil(Math.log2(n));
    let worst = 0;
    for (const at of [0, 1, 2, 1234, 2499, 2500, 2501, 4998, 4999]) {
      const { groups, attempt } = writer(new Map([[at, '22P05']]));
      const result = await isolateRefused(rowsOf(n), pgError('22P05'), attempt);
      assert.equal(result.written, n - 1);
      assert.deepEqual(result.refused.map((r) => r.row), [at]);
      assert.equal((result.refused[0]!.err as { code: string }).code, '22P05');
      assert.ok(groups.length <= bound, `bad row at ${at}: ${groups.length} attempts, more than ${bound}`);
      worst = Math.max(worst, groups.length);
    }
    assert.ok(worst > 1, 'the bad row was searched for, not found for free');
  });

  it('writes every good row exactly once and refuses each bad row only after it failed alone', async () => {
    const bad = new Map([
      [3, '22P05'],
      [4, '22P02'],
      [57, '23514'],
      [99, '22021'],
    ]);
    const { groups, attempt } = writer(bad);
    const result = await isolateRefused(rowsOf(100), pgError('22P05'), attempt);
    assert.deepEqual(result.refused.map((r) => [r.row, (r.err as { code: string }).code]), [...bad.entries()]);
    assert.equal(result.written, 96);
    const written = groups.filter((g) => !g.some((r) => bad.has(r))).flat();
    assert.deepEqual(written.sort((a, b) => a - b), rowsOf(100).filter((r) => !bad.has(r)));
    for (const row of bad.keys()) {
      assert.ok(groups.some((g) => g.length === 1 && g[0] === row), `row ${row} was tried alone before being refused`);
    }
  });

  it('tries a batch of one again alone rather than refusing it on the batch failure', async () => {
    const { groups, attempt } = writer(new Map());
    const result = await isolateRefused([7], pgError('22P05'), attempt);
    assert.deepEqual(result, { written: 1, refused: [] });
    assert.deepEqual(groups, [[7]]);
  });

  it('rethrows at once an error that is not the rows’ fault: a lost connection, a broken statement', async () => {
    for (const code of ['40001', 'CONNECTION_CLOSED', '42P01']) {
      const { groups, attempt } = writer(new Map([[10, code]]));
      await assert.rejects(isolateRefused(rowsOf(64), pgError('22P05'), attempt), { code });
      assert.equal(groups.length, 1, `${code}: stopped at the first failure`);
    }
  });
});
