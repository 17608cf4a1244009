// package.json and sql/ ship beside the code. They are found from the package's root, the nearest
// folder above this module that holds a package.json, because this module runs from src/ (tsx,
// tests) and from dist/src/ (compiled): no path here counts folder levels.

import { existsSync, readFileSync } from 'node:fs';

function packageRoot(): URL {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    if (existsSync(new URL('package.json', dir))) return dir;
    if (dir.pathname === '/') throw new Error(`no package.json above ${import.meta.url}`);
  }
}

export const PACKAGE_ROOT = packageRoot();

export const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string }).version;
