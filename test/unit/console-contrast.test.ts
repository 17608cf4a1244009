import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONSOLE_STYLESHEET } from '../../src/console/style.ts';
import { STYLESHEET } from '../../src/web/style.ts';
import { contrast } from '../helpers/contrast.ts';

/** The custom properties of the first `:root { … }` after `from` in the stylesheet. */
function variables(from: number, sheet = CONSOLE_STYLESHEET): Map<string, string> {
  const start = sheet.indexOf(':root {', from);
  const block = sheet.slice(start, sheet.indexOf('}', start));
  return new Map([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6});/gi)].map((m) => [m[1]!, m[2]!]));
}

const schemes = { light: variables(0), dark: variables(CONSOLE_STYLESHEET.indexOf('prefers-color-scheme: dark')) };
const publicSchemes = { light: variables(0, STYLESHEET), dark: variables(STYLESHEET.indexOf('prefers-color-scheme: dark'), STYLESHEET) };

const atLeast = (v: Map<string, string>, fgs: string[], surfaces: string[], min: number) => {
  for (const surface of surfaces) {
    for (const fg of fgs) {
      const ratio = contrast(v.get(fg)!, v.get(surface)!);
      assert.ok(ratio >= min, `${fg} on ${surface}: ${ratio.toFixed(2)}:1, under ${min}:1`);
    }
  }
};

describe('console colours', () => {
  for (const [scheme, v] of Object.entries(schemes)) {
    it(`${scheme}: text 4.5:1 and form fields' edges 3:1 against the surfaces they sit on`, () => {
      for (const surface of ['--surface', '--bg']) {
        for (const [fg, min] of [['--text', 4.5], ['--muted', 4.5], ['--field-border', 3]] as const) {
          const ratio = contrast(v.get(fg)!, v.get(surface)!);
          assert.ok(ratio >= min, `${fg} on ${surface}: ${ratio.toFixed(2)}:1, under ${min}:1`);
        }
      }
    });
  }
  for (const [scheme, v] of Object.entries(schemes)) {
    it(`${scheme}: a state's word and tag (resolved, warning, critical, maintenance) 4.5:1 on every surface`, () => {
      atLeast(v, ['--healthy', '--degraded', '--down', '--maintenance'], ['--surface', '--surface-2', '--bg'], 4.5);
    });
  }
  for (const [scheme, v] of Object.entries(schemes)) {
    it(`${scheme}: a link, a label tag on Fleet's rows too, 4.5:1 on every surface`, () => {
      assert.match(CONSOLE_STYLESHEET, /\.tag \{[^}]*background: var\(--surface-2\)/);
      atLeast(v, ['--accent'], ['--surface', '--surface-2', '--bg'], 4.5);
    });
  }
});

describe('status page colours', () => {
  for (const [scheme, v] of Object.entries(publicSchemes)) {
    it(`${scheme}: a component's state in words 4.5:1 on the card and the page`, () => {
      atLeast(v, ['--fg', '--muted', '--healthy', '--degraded', '--down-text', '--maintenance-text', '--unknown-text'], ['--card', '--bg'], 4.5);
    });
  }
  for (const [scheme, v] of Object.entries(publicSchemes)) {
    it(`${scheme}: the banner's words, its 13.6 px "Updated" line too, 4.5:1 on every state's fill`, () => {
      const fills = [...STYLESHEET.matchAll(/\.bg-(\w+) \{ background: var\((--[\w-]+)\); \}/g)];
      assert.equal(fills.length, 5, 'a fill for each of the five states');
      atLeast(v, ['--on-state'], fills.map((m) => m[2]!), 4.5);
      // Translucent words would blend into the fill and fall below the ratio worked out above.
      assert.doesNotMatch(/\.banner small \{[^}]*\}/.exec(STYLESHEET)![0], /opacity/);
    });
  }
  for (const [scheme, v] of Object.entries(publicSchemes)) {
    it(`${scheme}: every day's bar and swatch, and a form field's edge, 3:1 on the card and the page`, () => {
      const fills = [...STYLESHEET.matchAll(/\.day-\w+ \{ background: var\((--[\w-]+)\); \}/g)].map((m) => m[1]!);
      assert.equal(fills.length, 5, 'a fill for each of the five kinds of day');
      atLeast(v, fills, ['--card', '--bg'], 3);
      const edge = /\.field textarea \{[^}]*border: 1px solid var\((--[\w-]+)\)/.exec(STYLESHEET)![1]!;
      atLeast(v, [edge], ['--card'], 3);
    });
  }
});
