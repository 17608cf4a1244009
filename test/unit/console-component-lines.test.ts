import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { componentLines, identifiedLines, lineProblems, readComponentLines, type ComponentInput, type ShownComponent } from '../../src/console/component-lines.ts';

// A status page's components as the console's textarea holds them: read back exactly as written
// out, whatever their names and label values hold.

describe('component lines', () => {
  it('reads a name, nodes and labels, separated by commas or blanks, skipping blank lines', () => {
    const read = readComponentLines('API: api-1, api-2 role=api\r\n\r\n  Web  : web-1,region="eu west"\n');
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.lines, [1, 3]);
    assert.deepEqual(read.components, [
      { name: 'API', node_ids: ['api-1', 'api-2'], labels: { role: 'api' } },
      { name: 'Web', node_ids: ['web-1'], labels: { region: 'eu west' } },
    ]);
  });

  it('writes out what it reads back unchanged: ": " in names, odd label values, node names with colons', () => {
    const components: ComponentInput[] = [
      { name: 'EU: API', node_ids: ['id-1', 'host:8080:'], labels: { 'app.kubernetes.io/name': 'a: b, "c" \\ d', empty: '', url: 'http://x:1/' } },
      { name: 'Only labels', node_ids: [], labels: { tier: 'primary' } },
    ];
    const text = componentLines(components, new Map([['id-1', 'web-1']]));
    assert.equal(text.split('\n')[1], 'Only labels: tier=primary');
    const read = readComponentLines(text);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(read.components, [{ ...components[0]!, node_ids: ['web-1', 'host:8080:'] }, components[1]]);
  });

  it('reads back whatever it wrote, whichever quotes and backslashes end a line', () => {
    const awkward: ComponentInput[] = [
      { name: 'Web', node_ids: [], labels: { region: 'eu: west' } },
      { name: 'a: b: c', node_ids: ['n-1'], labels: { a: 'p"q: r' } },
      { name: 'Back', node_ids: [], labels: { path: 'C:\\', dir: 'D: \\' } },
      { name: 'Both', node_ids: [], labels: { x: '\\"', y: '\\\\: "' } },
      { name: 'Ünïcode: ☃', node_ids: ['nœud-1'], labels: { city: 'Zürich, Genève: 🏔' } },
      { name: 'Spaces', node_ids: ['s-1', 's-2'], labels: { a: ' , ', b: ': ', c: '' } },
    ];
    for (const c of awkward) {
      const text = componentLines([c], new Map());
      assert.deepEqual(readComponentLines(text), { components: [c], lines: [1], problems: [] }, text);
    }
    assert.deepEqual(readComponentLines('Web: region="eu: west"').components, [awkward[0]]);
    assert.deepEqual(readComponentLines('X: a="p\\"q: r"').components, [{ name: 'X', node_ids: [], labels: { a: 'p"q: r' } }]);
  });

  it('says which line it cannot read, and why', () => {
    const read = readComponentLines('API api-1\nWeb: web-1, region="eu\nDB: db-1');
    assert.deepEqual(read.problems, [
      { field: 'components', message: 'line 1: write it as "name: nodes or labels", e.g. "API: api-1, role=api"' },
      { field: 'components', message: 'line 2: cannot read "web-1, region="eu": a label with a blank, comma or quote in its value is key="value"' },
    ]);
    assert.deepEqual(read.components, [{ name: 'DB', node_ids: ['db-1'], labels: {} }]);
    assert.deepEqual(read.lines, [3]);
  });

  it("says the API's problems by line and by what was typed, each once", () => {
    // A line selecting nothing is the service's to refuse, in its words.
    assert.deepEqual(readComponentLines('Nothing: ').components, [{ name: 'Nothing', node_ids: [], labels: {} }]);
    const withEmpty = readComponentLines('\nAPI: api-1, web-9\n : x=y');
    const said = lineProblems(
      [
        { field: 'components.0.node_ids.1', message: 'is not a node' },
        { field: 'components.1.name', message: 'must not be empty' },
        { field: 'components.0.labels', message: 'node_ids or labels must name at least one node or label' },
        { field: 'components.0.node_ids', message: 'node_ids or labels must name at least one node or label' },
        { field: 'components', message: 'must hold at most 50 components' },
        { field: 'slug', message: 'is taken' },
      ],
      withEmpty,
    );
    assert.deepEqual(said, [
      'line 2: "web-9" is not a node',
      'line 3: the name must not be empty',
      'line 2: node_ids or labels must name at least one node or label',
      'the components must hold at most 50 components',
    ]);
  });

  it('finds the component each line edits: by name, else by what it selects, else by its place when no line was added or removed', () => {
    const shown: ShownComponent[] = [
      { id: 'a', name: 'API', node_ids: ['api-1'], labels: {} },
      { id: 'd', name: 'Database', node_ids: [], labels: { role: 'db' } },
    ];
    const ids = (text: string, given = shown) => identifiedLines(readComponentLines(text).components, given).map((c) => c.id);
    assert.deepEqual(ids('Database: role=db\nAPI: api-1'), ['d', 'a'], 'moved');
    assert.deepEqual(ids('Database: role=db\nPublic API: api-1\nSearch: role=api'), ['d', 'a', undefined], 'renamed and moved, one added');
    assert.deepEqual(ids('Public API: api-2\nDatabase: role=db'), ['a', 'd'], 'edited in place, name and nodes at once');
    assert.deepEqual(ids('Database: role=db\nSearch: role=api\nPublic API: api-2'), ['d', undefined, undefined], 'a line added: places say nothing');
    assert.deepEqual(ids('API: api-1\nAPI copy: api-1'), ['a', undefined], 'an id once, and a copy of the API is not the database it was typed over');
    assert.deepEqual(ids('API: api-1', []), [undefined], 'a new page');
  });

  it('tells two components of one name apart by what they select, before their order', () => {
    const twins: ShownComponent[] = [
      { id: 'a1', name: 'API', node_ids: ['api-1'], labels: {} },
      { id: 'a2', name: 'API', node_ids: ['api-2'], labels: {} },
    ];
    const ids = (text: string) => identifiedLines(readComponentLines(text).components, twins).map((c) => c.id);
    assert.deepEqual(ids('API: api-2'), ['a2'], 'the first line deleted: the second keeps its past, the first’s goes');
    assert.deepEqual(ids('API: api-2\nAPI: api-1'), ['a2', 'a1'], 'swapped: each keeps its own');
    assert.deepEqual(ids('API: api-1, api-3\nAPI: api-2'), ['a1', 'a2'], 'a node added to the first: the second still has its own, the first is left');
  });

  it('gives a line typed over another in place the past of that line only when it shares a word of the name, a node or a label', () => {
    const shown: ShownComponent[] = [
      { id: 'a', name: 'API', node_ids: ['api-1'], labels: {} },
      { id: 'd', name: 'Database', node_ids: [], labels: { role: 'db' } },
    ];
    const ids = (text: string) => identifiedLines(readComponentLines(text).components, shown).map((c) => c.id);
    assert.deepEqual(ids('Search: role=search\nDatabase: role=db'), [undefined, 'd'], 'nothing in common with the API: a new component');
    assert.deepEqual(ids('Public api: api-2\nDatabase: role=db'), ['a', 'd'], 'a word of the name in common, in any case');
    assert.deepEqual(ids('Gateway: api-1, api-2\nDatabase: role=db'), ['a', 'd'], 'a node in common');
    assert.deepEqual(ids('API: api-1\nStore: role=db, tier=2'), ['a', 'd'], 'a label in common');
  });
});
