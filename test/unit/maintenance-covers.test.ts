import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { windowCovers } from '../../src/maintenance/model.ts';

// What a maintenance window's audit rows and the console's end question call it: every node and
// label up to four, then the first three "and N more", so 1,000 nodes make no 130 KB name.

const names = new Map(Array.from({ length: 1000 }, (_, i) => [`id-${i + 1}`, `web-${i + 1}`]));
const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i + 1}`);

describe('windowCovers', () => {
  it('names up to four nodes and labels whole, a deleted node as such', () => {
    assert.equal(windowCovers({ node_ids: ['id-1', 'gone'], labels: { role: 'web' } }, names), 'web-1, a deleted node, role=web');
    assert.equal(windowCovers({ node_ids: ids(3), labels: { role: 'web' } }, names), 'web-1, web-2, web-3, role=web');
  });

  it('names the first three of more, and how many more', () => {
    assert.equal(windowCovers({ node_ids: ids(1000), labels: {} }, names), 'web-1, web-2, web-3 and 997 more');
    assert.equal(windowCovers({ node_ids: ids(4), labels: { role: 'web' } }, names), 'web-1, web-2, web-3 and 2 more');
  });
});
