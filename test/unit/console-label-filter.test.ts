import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readLabelFilters, withLabel } from '../../src/console/label-filter.tsx';
import { MAX_LABEL_FILTERS } from '../../src/nodes/model.ts';

describe('a label link on a list filtered by labels', () => {
  it('adds its label once, the same label typed with = or : counting once', () => {
    assert.deepEqual(withLabel(['role=web'], 'rack=k0'), ['role=web', 'rack=k0']);
    assert.deepEqual(withLabel(['rack:k0'], 'rack=k0'), ['rack:k0']);
    assert.deepEqual(withLabel(['rack=k0'], 'rack=k0'), ['rack=k0']);
    // A value that differs only after a separator of its own is another label.
    assert.deepEqual(withLabel(['url=a=b'], 'url=a'), ['url=a=b', 'url=a']);
  });

  it('is not offered on a page filtered by the most labels, where a further one would be left out', () => {
    const full = Array.from({ length: MAX_LABEL_FILTERS }, (_, i) => `k${i}=v`);
    assert.equal(withLabel(full, 'rack=k0'), undefined);
    // One already there still leads to the same page.
    assert.deepEqual(withLabel(full, 'k3:v'), full);
    const upTo = withLabel(full.slice(1), 'rack=k0')!;
    assert.deepEqual(readLabelFilters(upTo).labels.at(-1), { key: 'rack', value: 'k0' });
  });
});
