import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Refusal } from '../../src/errors.ts';
import { Resolve } from '../../src/http/routes/incidents.ts';
import { parse } from '../../src/http/validation.ts';
import { NOTE_MAX_CHARS, noteOf, resolutionNote } from '../../src/incidents/resolve-note.ts';

// The console's form and a Resolve link's page take a typed note by the same rule as the API's
// Resolve body: a form's refusal names the same field and says the same words.

/** What resolving is given, or the refusal's details. */
const outcome = (take: () => string | undefined) => {
  try {
    return { note: take() };
  } catch (err) {
    assert.ok(err instanceof Refusal && err.code === 'validation_failed', String(err));
    return { refused: { message: err.message, details: err.details } };
  }
};

describe('a typed resolution note', () => {
  it('is refused over 2,000 characters exactly as the API refuses it', () => {
    for (const typed of ['x'.repeat(NOTE_MAX_CHARS - 1), 'x'.repeat(NOTE_MAX_CHARS), 'x'.repeat(NOTE_MAX_CHARS + 1), ` ${'x'.repeat(NOTE_MAX_CHARS)}`, 'Disk full.']) {
      assert.deepEqual(outcome(() => resolutionNote(typed)), outcome(() => parse(Resolve, { note: typed }).note), `${typed.length} characters`);
    }
    assert.deepEqual(outcome(() => resolutionNote('x'.repeat(NOTE_MAX_CHARS + 1))).refused?.details, [{ field: 'note', message: 'must be at most 2000 characters' }]);
  });

  it('is none when blank, and kept as typed otherwise', () => {
    assert.equal(resolutionNote(''), undefined);
    assert.equal(resolutionNote(' \n\t'), undefined);
    assert.equal(resolutionNote(' Disk full. '), ' Disk full. ');
  });

  it('counts a line break a form sent as CRLF once, as the textarea did', () => {
    assert.equal(noteOf({ note: `a\r\n${'y'.repeat(NOTE_MAX_CHARS - 2)}` }).length, NOTE_MAX_CHARS);
    assert.equal(noteOf({}), '');
    assert.equal(noteOf({ note: new File(['x'], 'note.txt') }), '');
  });
});
