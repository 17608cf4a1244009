import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The unprivileged account Postgres runs as when the engine itself runs as root. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Local accounts by name and by uid, from /etc/passwd (system accounts always live there). */
function passwd(): Account[] {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

/**
 * Postgres refuses to run as root, and creating an account is not ours to do. The account is the
 * one that already owns the Postgres directory when it exists (so a later `postgres` account does
 * not strand a cluster made as `nobody`), else `postgres` (what a distribution's package creates),
 * else `nobody`.
 */
export function accountFor(existingOwnerUid: number | undefined): Account {
  const accounts = passwd();
  if (existingOwnerUid !== undefined && existingOwnerUid !== 0) {
    const owner = accounts.find((a) => a.uid === existingOwnerUid);
    if (owner) return owner;
    throw new Error(`the embedded Postgres directory is owned by uid ${existingOwnerUid}, which has no entry in /etc/passwd`);
  }
  const chosen = accounts.find((a) => a.name === 'postgres') ?? accounts.find((a) => a.name === 'nobody');
  if (!chosen || chosen.uid === 0) {
    throw new Error('running as root, the embedded Postgres needs an unprivileged account named "postgres" or "nobody"; neither exists');
  }
  return chosen;
}

/**
 * The first directory on the way to `path` that `account` may not enter (no search permission
 * for its uid, its primary group, or others), or undefined. Postgres runs with only its primary
 * group (the supplementary ones are cleared), so that is the only group that counts. ACLs are not
 * consulted: the common failure is a root-owned 0700 home directory such as /root.
 */
export function unreachableDir(path: string, account: Account): string | undefined {
  const chain: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return undefined; // not created yet: everything below it will be ours
    }
    const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
  }
  return undefined;
}
