import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MamoriError } from '@mamori/common';

/** The lock file of a spool directory: the owner's pid and start time, as JSON. */
export const LOCK_FILE = 'spool.lock';

/** What identifies a process across pid reuse: its pid and its start time (ticks since boot). */
export interface ProcessIdentity {
  pid: number;
  start: number;
}

/** Reads the start time of a live process, undefined when there is no such process. */
export type StartTimeOf = (pid: number) => Promise<number | undefined>;

/** A held lock; release() removes it. */
export interface SpoolLock {
  release(): Promise<void>;
}

async function heldBy(path: string, startOf: StartTimeOf): Promise<ProcessIdentity | undefined> {
  let owner: Partial<ProcessIdentity>;
  try {
    owner = JSON.parse(await readFile(path, 'utf8')) as Partial<ProcessIdentity>;
  } catch {
    return undefined; // unreadable or half-written: its writer is gone or racing us; try again
  }
  if (typeof owner.pid !== 'number' || typeof owner.start !== 'number') return undefined;
  // The same pid with another start time is a later process: the lock's owner is gone (a
  // restarted container reuses small pids).
  const start = await startOf(owner.pid);
  return start === owner.start ? { pid: owner.pid, start } : undefined;
}

/**
 * Takes a spool directory for this process: two agents writing one spool would interleave
 * their batches and their sequence numbers. A lock whose owner is gone (crash, container
 * restart) is taken over.
 * @throws MamoriError Config naming the directory and the process that holds it.
 */
export async function lockSpool(
  dir: string,
  self: ProcessIdentity,
  startOf: StartTimeOf,
): Promise<SpoolLock> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(self));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new MamoriError(ErrorCode.Config, `the spool directory ${dir} cannot be locked`, {
          cause: err,
          context: { dir },
        });
      }
    }
    const owner = await heldBy(path, startOf);
    if (owner !== undefined && owner.pid !== self.pid) {
      throw new MamoriError(
        ErrorCode.Config,
        `the spool directory ${dir} is in use by process ${owner.pid}: two agents cannot share a spool (give each its own MAMORI_DEFENDER_SPOOL_DIR)`,
        { context: { dir, pid: owner.pid } },
      );
    }
    await rm(path, { force: true });
  }
  throw new MamoriError(ErrorCode.Config, `the spool directory ${dir} cannot be locked`, {
    context: { dir },
  });
}
