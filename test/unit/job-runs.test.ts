import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KEPT_OUTPUT_BYTES, OutputTail, PING_BODY_READ_BYTES, PING_BODY_READ_CHUNKS, planRuns, START_RETRY_WINDOW_MS, type PingEvent, type PingKind } from '../../src/jobs/model.ts';
import { readPingBody } from '../../src/http/routes/ping.ts';

const T0 = Date.parse('2026-05-04T03:00:00.000Z');
const ping = (sec: number, kind: PingKind, o: { node?: string; exitCode?: number; output?: string; rid?: string } = {}): PingEvent => ({
  nodeId: o.node ?? 'a',
  at: new Date(T0 + sec * 1000),
  kind,
  exitCode: o.exitCode ?? null,
  output: o.output ?? null,
  rid: o.rid ?? null,
});
const RID_A = '0b1c9a3e-4f5d-4e6a-9b7c-1d2e3f4a5b6c';
const RID_B = '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f';
const secs = (d: Date | null) => (d === null ? null : (d.getTime() - T0) / 1000);
const rows = (rs: Array<{ nodeId: string; startedAt: Date | null; finishedAt: Date | null; status: string; exitCode: number | null; output: string | null }>) =>
  rs.map((r) => `${r.nodeId} ${secs(r.startedAt)}→${secs(r.finishedAt)} ${r.status} ${r.exitCode} ${r.output}`);

describe('runs from pings', () => {
  it('a start and its end in one flush are one run', () => {
    const w = planRuns([ping(0, 'start'), ping(3, 'success', { exitCode: 0, output: 'done' })], []);
    assert.deepEqual(rows(w.inserts), ['a 0→3 success 0 done']);
    assert.deepEqual([...w.runStarted], [['a', null]]);
  });

  it('an end closes the run a previous flush stored', () => {
    const w = planRuns([ping(5, 'failure', { exitCode: 2 })], [{ id: '7', nodeId: 'a', startedAt: new Date(T0), rid: null }]);
    assert.deepEqual(w.inserts, []);
    assert.deepEqual(rows(w.updates), ['a 0→5 failure 2 null']);
    assert.equal(w.updates[0]?.id, '7');
  });

  it("an end's output is its own: a bare end after a start with a body has none", () => {
    const w = planRuns([ping(0, 'start', { output: 'starting the copy' }), ping(4, 'failure'), ping(5, 'start', { output: 'again' })], []);
    assert.deepEqual(rows(w.inserts), ['a 0→4 failure null null', 'a 5→null running null again']);
  });

  it('a start while a run is open leaves that run unfinished', () => {
    const w = planRuns([ping(9, 'start')], [{ id: '7', nodeId: 'a', startedAt: new Date(T0), rid: null }]);
    assert.deepEqual(rows(w.updates), ['a 0→null unfinished null null']);
    assert.deepEqual(rows(w.inserts), ['a 9→null running null null']);
    assert.equal(secs(w.runStarted.get('a')!), 9);
  });

  it('an end with no start is a row only when it says more than ok', () => {
    const w = planRuns([ping(1, 'success'), ping(2, 'success', { output: 'x' }), ping(3, 'failure'), ping(4, 'success', { exitCode: 0 })], []);
    assert.deepEqual(rows(w.inserts), ['a null→2 success null x', 'a null→3 failure null null', 'a null→4 success 0 null']);
    assert.equal(w.runStarted.size, 0, 'no run started or ended: no node to wake');
  });

  it('overlapping runs pair each end with the start of its run id', () => {
    const w = planRuns(
      [ping(0, 'start', { rid: RID_A }), ping(1, 'start', { rid: RID_B }), ping(5, 'success', { exitCode: 0, rid: RID_A }), ping(7, 'failure', { exitCode: 2, rid: RID_B })],
      [],
    );
    assert.deepEqual(rows(w.inserts), ['a 0→5 success 0 null', 'a 1→7 failure 2 null']);
    assert.deepEqual(w.inserts.map((r) => r.rid), [RID_A, RID_B]);
    assert.deepEqual([...w.runStarted], [['a', null]]);
  });

  it("an end with a run id closes that id's stored run, not the newest, which stays the one in progress", () => {
    const open = [
      { id: '7', nodeId: 'a', startedAt: new Date(T0), rid: RID_A },
      { id: '8', nodeId: 'a', startedAt: new Date(T0 + 1000), rid: RID_B },
    ];
    const w = planRuns([ping(5, 'success', { exitCode: 0, rid: RID_A })], open);
    assert.deepEqual(rows(w.updates), ['a 0→5 success 0 null']);
    assert.equal(w.updates[0]?.id, '7');
    assert.equal(w.runStarted.size, 0, 'run B is still the one in progress');
  });

  it('a start without a run id supersedes only the open run without one, and an end of an unknown id is a run without start', () => {
    const w = planRuns(
      [ping(0, 'start', { rid: RID_A }), ping(1, 'start'), ping(2, 'start'), ping(3, 'failure', { rid: RID_B }), ping(4, 'success', { exitCode: 0 })],
      [],
    );
    assert.deepEqual(rows(w.inserts), ['a 0→null running null null', 'a 1→null unfinished null null', 'a 2→4 success 0 null', 'a null→3 failure null null']);
  });

  it('a start retried with the run id of the open run is that run, from its first start', () => {
    // `lifeline run` timed out waiting for its start's answer and sent it again: both arrived.
    const w = planRuns([ping(0, 'start', { rid: RID_A }), ping(1, 'start', { rid: RID_A }), ping(9, 'success', { exitCode: 0, rid: RID_A })], []);
    assert.deepEqual(rows(w.inserts), ['a 0→9 success 0 null']);
    assert.deepEqual(w.updates, []);
    assert.deepEqual([...w.runStarted], [['a', null]]);
  });

  it('a retried start of a run a previous flush stored leaves it running from its start, taking its body', () => {
    const open = [{ id: '7', nodeId: 'a', startedAt: new Date(T0), rid: RID_A }];
    const bare = planRuns([ping(1, 'start', { rid: RID_A })], open);
    assert.deepEqual([bare.inserts, bare.updates, bare.runStarted.size], [[], [], 0], 'nothing to write');
    const w = planRuns([ping(1, 'start', { rid: RID_A, output: 'copying' }), ping(4, 'failure', { exitCode: 2, rid: RID_A })], open);
    assert.deepEqual(w.inserts, []);
    assert.deepEqual(rows(w.updates), ['a 0→4 failure 2 null']);
    const running = planRuns([ping(1, 'start', { rid: RID_A, output: 'copying' })], open);
    assert.deepEqual(rows(running.updates), ['a 0→null running null copying']);
  });

  it('a start with the run id of a run open since long before is a new run, the old one unfinished', () => {
    // A crontab passing a fixed rid: yesterday's run crashed and never ended; today's starts.
    const open = [{ id: '7', nodeId: 'a', startedAt: new Date(T0), rid: RID_A }];
    const day = 24 * 3600;
    const w = planRuns([ping(day, 'start', { rid: RID_A }), ping(day + 9, 'success', { exitCode: 0, rid: RID_A })], open);
    assert.deepEqual(rows(w.updates), ['a 0→null unfinished null null']);
    assert.deepEqual(rows(w.inserts), [`a ${day}→${day + 9} success 0 null`]);
    const started = planRuns([ping(START_RETRY_WINDOW_MS / 1000 + 1, 'start', { rid: RID_A })], open);
    assert.deepEqual(rows(started.updates), ['a 0→null unfinished null null']);
    assert.deepEqual([...started.runStarted], [['a', new Date(T0 + START_RETRY_WINDOW_MS + 1000)]], 'max_run counts from the new start');
  });

  it('a log is a row of its own, and nodes are kept apart', () => {
    const w = planRuns([ping(0, 'start', { node: 'b' }), ping(1, 'log', { output: 'half way' }), ping(2, 'success', { node: 'b' })], []);
    assert.deepEqual(rows(w.inserts), ['b 0→2 success null null', 'a null→1 log null half way']);
  });
});

/** What an OutputTail keeps of `body` pushed in chunks of `size(i)` bytes (in one by default). */
const pushed = (body: Uint8Array, size: (i: number) => number = () => body.length) => {
  const tail = new OutputTail();
  for (let i = 0, at = 0; at < body.length; i++) {
    const next = Math.min(body.length, at + size(i));
    tail.push(body.subarray(at, next));
    at = next;
  }
  return tail.text();
};

/** An output's first line when it says it was cut, and the rest. */
const cutAndRest = (output: string | null) => {
  const m = /^(\[… [^\n]*\])\n/.exec(output ?? '');
  return m ? [m[1], output!.slice(m[0].length)] : [null, output];
};

describe('kept output', () => {
  it('is null for an empty body and the whole of a short one', () => {
    assert.equal(pushed(new Uint8Array()), null);
    assert.equal(pushed(Buffer.from('ok\n')), 'ok\n');
    assert.equal(pushed(Buffer.alloc(KEPT_OUTPUT_BYTES, 'x')), 'x'.repeat(KEPT_OUTPUT_BYTES), 'exactly 10 KB is whole');
  });

  it('keeps the end of a longer one, within 10 KB, and says how much was cut before it', () => {
    // 800 KB of numbered lines: the kept end starts mid-line, so the line before it says it was cut.
    const lines = Array.from({ length: 80_000 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join('\n');
    const body = Buffer.from(lines);
    for (const size of [() => body.length, () => 1, (i: number) => 1 + ((i * 7919) % 20_000)]) {
      const kept = pushed(body, size)!;
      const [line, rest] = cutAndRest(kept);
      assert.ok(Buffer.byteLength(kept) <= KEPT_OUTPUT_BYTES, `${Buffer.byteLength(kept)} bytes`);
      assert.ok(lines.endsWith(rest!) && rest!.length > KEPT_OUTPUT_BYTES - 200);
      assert.equal(line, `[… ${(body.length - Buffer.byteLength(rest!)).toLocaleString('en-US')} bytes cut]`);
    }
    assert.deepEqual(cutAndRest(pushed(Buffer.alloc(KEPT_OUTPUT_BYTES + 1, 'x')))[0], `[… 129 bytes cut]`);
  });

  it('starts at a character boundary after the cut', () => {
    const body = Buffer.concat([Buffer.from('x'.repeat(20_000)), Buffer.from('é'.repeat(KEPT_OUTPUT_BYTES / 2))]);
    const [line, rest] = cutAndRest(pushed(body));
    assert.equal(rest, 'é'.repeat(KEPT_OUTPUT_BYTES / 2 - 64));
    assert.equal(line, `[… ${(body.length - Buffer.byteLength(rest!)).toLocaleString('en-US')} bytes cut]`);
    const shifted = Buffer.concat([body, Buffer.from('z')]);
    // The cut falls inside an é: it starts after it.
    assert.equal(cutAndRest(pushed(shifted))[1], 'é'.repeat(KEPT_OUTPUT_BYTES / 2 - 65) + 'z');
  });

  it('shows bytes that are not UTF-8 as U+FFFD', () => {
    assert.equal(pushed(Uint8Array.from([0x61, 0xff, 0x62])), 'a\uFFFDb');
  });

  it('says the rest went unread, even when nothing before the end was cut', () => {
    const tail = new OutputTail();
    tail.push(Buffer.from('ok\n'));
    assert.deepEqual(cutAndRest(tail.text(true)), [`[… 0 bytes cut, and the body after this was not read: a ping reads up to 8 MiB in 4,096 chunks]`, 'ok\n']);
  });
});

describe('output tail', () => {
  it('keeps exactly the last bytes of 100,000 one-byte chunks', () => {
    const body = new Uint8Array(100_000).map((_, i) => 97 + (i % 26));
    const [line, rest] = cutAndRest(pushed(body, () => 1));
    assert.equal(rest, Buffer.from(body.subarray(body.length - KEPT_OUTPUT_BYTES + 128)).toString());
    assert.equal(line, `[… ${(100_000 - KEPT_OUTPUT_BYTES + 128).toLocaleString('en-US')} bytes cut]`);
  });

  it('keeps what the whole output would keep, however it is cut', () => {
    // Four-byte characters with the kept boundary after the first byte of one: held from its
    // first byte, it is decoded (then dropped) rather than kept as U+FFFD.
    const body = Buffer.from('x'.repeat(100) + '\u{1F600}'.repeat(KEPT_OUTPUT_BYTES / 4) + 'z');
    const whole = pushed(body);
    assert.equal(cutAndRest(whole)[1], '\u{1F600}'.repeat((KEPT_OUTPUT_BYTES - 128) / 4 - 1) + 'z');
    for (const size of [() => 1, () => 3, (i: number) => 1 + ((i * 7919) % 20_000), () => 64 * 1024]) {
      assert.equal(pushed(body, size), whole);
    }
  });
});

/** A body as a stream of `chunks` chunks of `size` bytes each, and how many of them were pulled. */
function stream(chunks: number, size: number) {
  const seen = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (seen.pulled === chunks) return c.close();
      seen.pulled += 1;
      c.enqueue(new Uint8Array(size).fill(97));
    },
  });
  return { body, seen };
}

describe('a ping body as it is read', () => {
  it('reads a body of a few MB to its end, keeping the end and saying what was cut', async () => {
    const { body } = stream(40, 64 * 1024);
    const read = await readPingBody(body);
    assert.equal(read.unread, false);
    const [line, rest] = cutAndRest(read.output);
    assert.equal(line, `[… ${(40 * 64 * 1024 - rest!.length).toLocaleString('en-US')} bytes cut]`);
    assert.deepEqual(await readPingBody(null), { output: null, unread: false });
  });

  it('stops at 8 MiB, keeping the end of what it read and saying the rest was not read', async () => {
    const { body, seen } = stream(1000, 64 * 1024);
    const read = await readPingBody(body);
    assert.equal(read.unread, true);
    assert.equal(seen.pulled <= PING_BODY_READ_BYTES / (64 * 1024) + 2, true, `${seen.pulled} chunks pulled`);
    const [line, rest] = cutAndRest(read.output);
    assert.equal(line, `[… ${(PING_BODY_READ_BYTES - rest!.length).toLocaleString('en-US')} bytes cut, and the body after this was not read: a ping reads up to 8 MiB in 4,096 chunks]`);
  });

  it('cuts at 8 MiB before a character the limit falls in, not through it', async () => {
    // 8 MiB less 1 byte of `a`, then `€` (3 bytes), which the limit splits after its first byte.
    const chunks = [new Uint8Array(PING_BODY_READ_BYTES - 1).fill(97), Buffer.from('€€')];
    const body = new ReadableStream<Uint8Array>({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) });
    const read = await readPingBody(body);
    assert.equal(read.unread, true);
    assert.ok(read.output!.endsWith('aaa'), JSON.stringify(read.output!.slice(-5)));
  });

  it('stops after 4,096 chunks, however small', async () => {
    const { body, seen } = stream(1_000_000, 1);
    const read = await readPingBody(body);
    assert.equal(read.unread, true);
    assert.ok(seen.pulled <= PING_BODY_READ_CHUNKS + 2, `${seen.pulled} chunks pulled`);
    assert.equal(cutAndRest(read.output)[1], 'a'.repeat(PING_BODY_READ_CHUNKS));
    // Exactly at the limits is the whole body.
    assert.deepEqual(await readPingBody(stream(PING_BODY_READ_CHUNKS, 1).body), { output: 'a'.repeat(PING_BODY_READ_CHUNKS), unread: false });
    const atBytes = await readPingBody(stream(PING_BODY_READ_BYTES / (64 * 1024), 64 * 1024).body);
    assert.equal(atBytes.unread, false);
  });
});
