import { open, readFile, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';

/** A held lock file; `release` removes it if it is still ours. */
export interface DirectoryLock {
  release(): Promise<void>;
}

/** Attempts at taking over a stale lock before giving up (another process races for it). */
const TAKEOVER_ATTEMPTS = 3;

/**
 * Lock files this process holds or is taking. A lock file with this process's pid that is not
 * reserved here was left by an earlier process with the same pid — common in containers, where
 * a restarted process often gets the pid its crashed predecessor had.
 */
const heldByThisProcess = new Set<string>();

/**
 * Takes `lockFile` as a lock holding this process's pid. A lock left by a process that no longer
 * exists is taken over; a live one (including this process's own) refuses.
 * @throws MamoriError BusLocked when another live process (or this one) holds the lock.
 */
export async function acquireLock(lockFile: string, logger: Logger): Promise<DirectoryLock> {
  const file = resolve(lockFile);
  const pid = process.pid;
  if (heldByThisProcess.has(file)) throw lockedError(file, pid);
  // Reserved before the first await, so that two opens in this process cannot both proceed.
  heldByThisProcess.add(file);
  try {
    for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
      if (await createLockFile(file, pid)) return { release: () => releaseLock(file, pid) };
      const holder = await readPid(file);
      // This process's own pid cannot be another bus of this process (that one would have
      // reserved the file): it is the crashed predecessor that had the same pid.
      const stale = holder === undefined || holder === pid || !isAlive(holder);
      if (!stale) throw lockedError(file, holder);
      logger.warn({ file, pid: holder }, 'taking over the lock of a process that no longer runs');
      await unlink(file).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
    throw lockedError(file, undefined);
  } catch (err) {
    heldByThisProcess.delete(file);
    throw err;
  }
}

/** Creates the lock with our pid; false when it exists or another process won a takeover race. */
async function createLockFile(file: string, pid: number): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(`${pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // Two processes taking over the same stale lock: the later unlink-and-create wins; the
  // earlier sees someone else's pid (or no file) here and tries again.
  return (await readPid(file)) === pid;
}

function lockedError(file: string, pid: number | undefined): MamoriError {
  return new MamoriError(
    ErrorCode.BusLocked,
    'the embedded log directory is in use by another bus',
    {
      context: { file, pid },
    },
  );
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseLock(file: string, pid: number): Promise<void> {
  heldByThisProcess.delete(file);
  if ((await readPid(file)) === pid) await unlink(file);
}
