import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { dropDatabases } from './db.ts';
import { ROOT, useEngine } from './engine-process.ts';

/** What a child with piped stdout and stderr wrote, and its exit code, once it exits. */
export async function finished(child: ChildProcess): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

/**
 * An engine of its own for a file of CLI tests, started before them and stopped after, with what
 * those tests run the CLI with. Each file holds a share of the CLI's tests: every command is a Node
 * start (~0.5 s quiet, ~10 s at load 40), and one file of them all outran the 10-minute limit a
 * file has on a loaded machine. `alsoDrop` names databases the tests make, dropped at the end.
 */
export function useCliEngine(name: string, alsoDrop: string[] = []) {
  const e = useEngine(name);
  const ADMIN = e.admin;
  const tempDirs: string[] = [];

  after(async () => {
    await dropDatabases(alsoDrop);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A directory of its own under the system's temporary one, removed once the tests end (it holds tokens). */
  function tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    tempDirs.push(dir);
    return dir;
  }

  /**
   * `node bin/lifeline.mjs …` as a user runs it, against the engine with the admin token unless told
   * otherwise; its stdin is `input`, ended at once (empty unless given). `via`: another way to start
   * the CLI (by a link to it in a bin directory, through npx), as the command and its first arguments.
   */
  function spawnCli(args: string[], env: Record<string, string> = {}, input = '', via = [process.execPath, 'bin/lifeline.mjs']) {
    const child = spawn(via[0]!, [...via.slice(1), ...args], {
      cwd: ROOT,
      env: { ...process.env, LIFELINE_URL: e.origin, LIFELINE_TOKEN: ADMIN, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(input);
    return child;
  }

  async function cli(args: string[], env: Record<string, string> = {}, input?: string, via?: string[]) {
    return finished(spawnCli(args, env, input, via));
  }

  async function api<T = any>(method: string, path: string, body?: unknown, token = ADMIN): Promise<T> {
    const res = await fetch(e.origin + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  return { ADMIN, dbName: e.dbName, base: () => e.origin, tempDir, spawnCli, cli, api };
}
