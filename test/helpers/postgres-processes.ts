import { readdir, readlink } from 'node:fs/promises';

/** Every process working in `cluster`: the postmaster and its children all chdir there (Linux /proc). */
export async function processesIn(cluster: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => undefined);
    if (cwd === cluster) found.push(Number(entry));
  }
  return found;
}
