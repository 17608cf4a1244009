import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONSOLE_STYLESHEET } from '../../src/console/style.ts';

/** The custom properties of the first `:root { … }` after `from` in the stylesheet. */
function variables(from: number): Map<string, string> {
  const start = CONSOLE_STYLESHEET.indexOf(':root {', from);
  const block = CONSOLE_STYLESHEET.slice(start, CONSOLE_STYLESHEET.indexOf('}', start));
  return new Map([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6});/gi)].map((m) => [m[1]!, m[2]!]));
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const schemes = { light: variables(0), dark: variables(CONSOLE_STYLESHEET.indexOf('prefers-color-scheme: dark')) };

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
});
