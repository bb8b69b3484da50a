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
 * Lock files this process holds. A lock with this process's pid that is not in here was left
 * by an earlier process with the same pid — common in containers, where a restarted process
 * often gets the pid its crashed predecessor had.
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
  if (heldByThisProcess.has(file)) {
    throw new MamoriError(
      ErrorCode.BusLocked,
      'the embedded log directory is in use by another bus',
      {
        context: { file, pid },
      },
    );
  }
  for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // Two processes taking over the same stale lock: the later unlink-and-create wins; the
      // earlier sees someone else's pid here and backs off.
      if ((await readPid(file)) !== pid) continue;
      heldByThisProcess.add(file);
      return { release: () => releaseLock(file, pid) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readPid(file);
    const stale =
      holder === undefined || (holder === pid ? !heldByThisProcess.has(file) : !isAlive(holder));
    if (!stale) {
      throw new MamoriError(
        ErrorCode.BusLocked,
        'the embedded log directory is in use by another bus',
        {
          context: { file, pid: holder },
        },
      );
    }
    logger.warn({ file, pid: holder }, 'taking over the lock of a process that no longer runs');
    await unlink(file).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    });
  }
  throw new MamoriError(ErrorCode.BusLocked, 'could not take the embedded log lock', {
    context: { file },
  });
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
