import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedWindows } from '../../src/http/rate-limit.ts';

// The per-key windows every limit counts in: keys whose window ended are forgotten as the map
// grows, so a stream of keys each used once (a scanner trying ping keys) holds about a window's
// worth of them, not every key up to the bound.

const WINDOW_MS = 60_000;

describe('KeyedWindows', () => {
  it('forgets the windows that ended once the map has doubled, long before its bound', () => {
    const windows = new KeyedWindows(WINDOW_MS, () => ({ used: 0 }));
    for (let i = 0; i < 1024; i++) windows.begin(`scanned-${i}`, 0);
    assert.equal(windows.size, 1024);
    windows.begin('next-minute', WINDOW_MS);
    assert.equal(windows.size, 1, 'the 1,024 ended windows are gone, the new one is held');
    assert.ok(windows.running('next-minute', WINDOW_MS));
  });

  it('forgets the older half of its windows when 100,000 are running, not every one', () => {
    const windows = new KeyedWindows(WINDOW_MS, () => ({ used: 0 }));
    windows.begin('job', 0).used += 5;
    for (let i = 1; i < 100_000; i++) windows.begin(`flood-${i}`, 1);
    // The job's window ended and began again: it is one of the newest now.
    windows.begin('job', WINDOW_MS).used += 1;
    for (let i = 0; i < 10; i++) windows.begin(`more-${i}`, WINDOW_MS);
    assert.ok(windows.size <= 50_011, `${windows.size} held`);
    assert.equal(windows.running('job', WINDOW_MS)?.used, 1, 'the newest windows are kept');
    assert.equal(windows.running('more-9', WINDOW_MS)?.used, 0);
  });

  it('keeps every running window through a sweep, and sweeps next at twice what it kept', () => {
    const windows = new KeyedWindows(WINDOW_MS, () => ({ used: 0 }));
    for (let i = 0; i < 1024; i++) windows.begin(`live-${i}`, 0).used += 1;
    windows.begin('later', WINDOW_MS / 2);
    assert.equal(windows.size, 1025, 'nothing had ended');
    assert.equal(windows.running('live-0', WINDOW_MS / 2)?.used, 1);
    for (let i = 1025; i < 2048; i++) windows.begin(`after-${i}`, WINDOW_MS);
    assert.equal(windows.size, 2048, 'no sweep before the map doubled');
    windows.begin('doubled', WINDOW_MS);
    assert.equal(windows.size, 1025, "the first 1,024 windows ended at 60 s and are gone; 'later' and those after it run");
  });
});
