import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** uid → name, from passwd text; malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const name = fields[0];
    const uid = Number(fields[2]);
    if (name && fields.length >= 3 && Number.isInteger(uid) && !users.has(uid))
      users.set(uid, name);
  }
  return users;
}

interface PasswdEntry {
  users: Map<number, string>;
  loadedAt: number;
}

// A user added after the file was read is found on the next miss once this has passed (ms).
const RELOAD_ON_MISS_AFTER_MS = 5_000;
// Mount namespaces remembered: one per container plus a few for the host; oldest go first.
const MAX_NAMESPACES = 512;

export interface UserLookup {
  /** The process's pid: its own /etc/passwd is read through /proc/<pid>/root. */
  pid: number;
  /** Its mount namespace (readlink of /proc/<pid>/ns/mnt) when known, the cache key. */
  mntNs?: string;
  /** Tried when the process is already gone (a short-lived exec): usually the same container. */
  ppid?: number;
}

/**
 * Resolves uids to names as the process itself would: from the /etc/passwd of its own root
 * (a container's, not the host's), cached per mount namespace.
 */
export class UserResolver {
  readonly #procRoot: string;
  readonly #hostRoot: string;
  readonly #byNamespace = new Map<string, PasswdEntry>();
  #ownNs: string | undefined | null = null;

  constructor(procRoot: string, hostRoot: string) {
    this.#procRoot = procRoot;
    this.#hostRoot = hostRoot;
  }

  /** The user name of `uid` for the process, '' when no passwd file names it. */
  async name(uid: number, lookup: UserLookup): Promise<string> {
    if (uid < 0) return '';
    const mntNs = lookup.mntNs ?? (await this.#readNs(lookup.pid));
    const key = mntNs ?? `pid:${lookup.pid}`;
    let entry = this.#byNamespace.get(key);
    if (
      entry === undefined ||
      (!entry.users.has(uid) && Date.now() - entry.loadedAt > RELOAD_ON_MISS_AFTER_MS)
    ) {
      const loaded = await this.#load(lookup, mntNs);
      if (loaded !== undefined) {
        entry = { users: loaded, loadedAt: Date.now() };
        this.#remember(key, entry);
      }
    }
    return entry?.users.get(uid) ?? '';
  }

  async #load(
    lookup: UserLookup,
    mntNs: string | undefined,
  ): Promise<Map<number, string> | undefined> {
    const candidates = [join(this.#procRoot, String(lookup.pid), 'root', 'etc', 'passwd')];
    if (lookup.ppid !== undefined && lookup.ppid > 0) {
      const parentNs = await this.#readNs(lookup.ppid);
      if (mntNs === undefined || parentNs === mntNs) {
        candidates.push(join(this.#procRoot, String(lookup.ppid), 'root', 'etc', 'passwd'));
      }
    }
    // The host's file only for processes that share our mount namespace (or when we cannot
    // tell, e.g. without permission): a container's users are not the host's.
    if (mntNs === undefined || mntNs === (await this.#ownNamespace())) {
      candidates.push(join(this.#hostRoot, 'etc', 'passwd'));
    }
    for (const path of candidates) {
      try {
        return parsePasswd(await readFile(path, 'utf8'));
      } catch {
        // Next candidate.
      }
    }
    return undefined;
  }

  async #ownNamespace(): Promise<string | undefined> {
    if (this.#ownNs === null)
      this.#ownNs = await this.#readNsPath(join(this.#procRoot, 'self', 'ns', 'mnt'));
    return this.#ownNs;
  }

  #readNs(pid: number): Promise<string | undefined> {
    return this.#readNsPath(join(this.#procRoot, String(pid), 'ns', 'mnt'));
  }

  async #readNsPath(path: string): Promise<string | undefined> {
    try {
      return await readlink(path);
    } catch {
      return undefined;
    }
  }

  #remember(key: string, entry: PasswdEntry): void {
    this.#byNamespace.delete(key);
    this.#byNamespace.set(key, entry);
    if (this.#byNamespace.size > MAX_NAMESPACES) {
      const oldest = this.#byNamespace.keys().next();
      if (oldest.done !== true) this.#byNamespace.delete(oldest.value);
    }
  }
}
