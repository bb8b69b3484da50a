import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, type BigIntStats } from 'node:fs';
import { promisify } from 'node:util';

/** What the hasher did, for the agent's stats. */
export interface ExeHashStats {
  /** Executables read and hashed. */
  hashed: number;
  /** Answers from the cache (the same file, unchanged, hashed before). */
  cached: number;
  /** Executables larger than the limit, left without a hash. */
  tooLarge: number;
  /** Executables that could not be opened or read (the process gone, no permission). */
  unreadable: number;
  /** Executables left without a hash because the bytes hashed per second were spent. */
  overBudget: number;
}

export interface ExeHasherOptions {
  /** Largest executable hashed, in bytes; larger ones get no hash. */
  maxBytes: number;
  /** Files remembered (least recently used forgotten first). @default 4096 */
  cacheEntries?: number;
  /**
   * Bytes hashed per second at most, on average (a burst may take `maxBytes` at once): someone
   * on the node who rewrites and runs large programs in a loop must not keep the agent hashing.
   * @default 128 MiB
   */
  bytesPerSecond?: number;
  /** The clock, in ms. @default Date.now */
  now?: () => number;
}

/** SHA-256 of running programs' executables, with a cache by file identity. */
export interface ExeHasher {
  /**
   * `sha256:<hex>` of the file `/proc/<pid>/exe` is (opened through the link, so a program
   * deleted or replaced since it started is still the one hashed), or undefined when it
   * cannot be read or is larger than the limit. `stillSame` is asked after the file is open:
   * false (the pid now belongs to another process) discards the answer. With `gone` (the
   * identity of the program file, read while the process ran, and its path), a process that
   * has ended is still hashed: from the cache, or from the file at `path` when its identity
   * is still that one.
   */
  hash(
    exeLink: string,
    stillSame: () => boolean,
    gone?: { identity: string; path: string },
  ): Promise<string | undefined>;
  stats(): ExeHashStats;
}

/**
 * A file's identity, `dev:ino:size:mtimeNs:ctimeNs`: a rewrite changes one of them. The
 * proc-events helper writes the same text for a program file (`exe_id`).
 */
function identityOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

function openOrUndefined(path: string, flags: number): number | undefined {
  try {
    return openSync(path, flags);
  } catch {
    return undefined;
  }
}

const FILE_IDENTITY = /^\d{1,20}:\d{1,20}:\d{1,20}:\d{1,20}:\d{1,20}$/;

/** Whether `text` is a file identity as {@link identityOf} (and the helper) write it. */
export function isFileIdentity(text: string): boolean {
  return FILE_IDENTITY.test(text);
}

const CHUNK = 1 << 20;
const readAt = promisify(read);

/** Reads the open file whole, in chunks off the event loop (it may be on a slow disk). */
async function sha256Of(fd: number, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let position = 0;
  for (;;) {
    const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Creates the hasher. Each executable is read once while it stays unchanged: a program run a
 * thousand times is hashed once, and several processes of a new program at once share one
 * read. Opening and checking are synchronous (procfs answers at once, and each asynchronous
 * call is a trip through libuv's thread pool: at 200 execs a second those cost more than the
 * rest); only reading a file to hash it is not.
 */
export function createExeHasher(options: ExeHasherOptions): ExeHasher {
  const { maxBytes } = options;
  const capacity = options.cacheEntries ?? 4096;
  const cache = new Map<string, string>();
  const reading = new Map<string, Promise<string | undefined>>();
  const stats: ExeHashStats = { hashed: 0, cached: 0, tooLarge: 0, unreadable: 0, overBudget: 0 };
  const rate = options.bytesPerSecond ?? 128 * 1024 * 1024;
  const burst = Math.max(rate, maxBytes);
  const now = options.now ?? Date.now;
  /** A token bucket of bytes to hash. */
  let budget = burst;
  let refilledAt = now();

  /** Takes `bytes` from the budget; false, taking nothing, when there are not that many. */
  function spend(bytes: number): boolean {
    const at = now();
    budget = Math.min(burst, budget + ((at - refilledAt) / 1000) * rate);
    refilledAt = at;
    if (bytes > budget) return false;
    budget -= bytes;
    return true;
  }

  function remember(identity: string, digest: string): void {
    cache.set(identity, digest);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
  }

  return {
    async hash(exeLink, stillSame, gone) {
      // Through the link: /proc's exe link opens the very file the process runs.
      let fd = openOrUndefined(exeLink, constants.O_RDONLY);
      const viaPath = fd === undefined && gone !== undefined;
      if (viaPath) {
        // The process is gone: its program's hash from the cache, else the file at its path,
        // which must still be the one it ran (same device, inode, size and times).
        const known = cache.get(gone.identity);
        if (known !== undefined) {
          stats.cached++;
          return known;
        }
        fd = openOrUndefined(
          gone.path,
          constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        );
      }
      if (fd === undefined) {
        // The process is gone, or the agent may not read it.
        stats.unreadable++;
        return undefined;
      }
      /** Whether the read below took the descriptor over (it closes it when done). */
      let handedOver = false;
      try {
        const fileStats = fstatSync(fd, { bigint: true });
        const identity = identityOf(fileStats);
        if (viaPath ? identity !== gone?.identity : !stillSame()) {
          if (viaPath) stats.unreadable++;
          return undefined;
        }
        if (!fileStats.isFile()) {
          stats.unreadable++;
          return undefined;
        }
        const known = cache.get(identity);
        if (known !== undefined) {
          cache.delete(identity);
          cache.set(identity, known);
          stats.cached++;
          return known;
        }
        if (fileStats.size > BigInt(maxBytes)) {
          stats.tooLarge++;
          return undefined;
        }
        const pending = reading.get(identity);
        if (pending !== undefined) {
          stats.cached++;
          return await pending;
        }
        if (!spend(Number(fileStats.size))) {
          stats.overBudget++;
          return undefined;
        }
        const own = sha256Of(fd, Number(fileStats.size))
          .then(
            (digest) => {
              stats.hashed++;
              remember(identity, digest);
              return digest;
            },
            () => {
              stats.unreadable++;
              return undefined;
            },
          )
          .finally(() => {
            reading.delete(identity);
            closeSync(fd);
          });
        handedOver = true;
        reading.set(identity, own);
        return await own;
      } finally {
        if (!handedOver) closeSync(fd);
      }
    },
    stats: () => ({ ...stats }),
  };
}
