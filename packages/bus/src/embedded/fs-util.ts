import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Makes a directory's entries (created, renamed files) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `file` with `data` so that a crash leaves either the old or the new content: write a
 * temporary file, fsync it, rename it over `file`, fsync the directory.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Buffer,
  fsync = true,
): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `${basename(file)}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    if (fsync) await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(temp, file);
  if (fsync) await fsyncDirectory(dir);
}

/**
 * Reads exactly `length` bytes at `position` into `buf` (from 0), or fewer when the file ends
 * first; returns the bytes read.
 */
export async function readAt(
  handle: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Writes every buffer at `position` with as few syscalls as the kernel allows. */
export async function writeAllAt(
  handle: FileHandle,
  buffers: Buffer[],
  totalBytes: number,
  position: number,
): Promise<void> {
  // libuv already loops over partial writes and IOV_MAX for one request; the loop here only
  // guards against a short write it could not complete (which it reports, not throws).
  let written = 0;
  let pending = buffers;
  while (written < totalBytes) {
    const { bytesWritten } = await handle.writev(pending, position + written);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    written += bytesWritten;
    if (written < totalBytes) pending = skipBytes(pending, bytesWritten);
  }
}

function skipBytes(buffers: Buffer[], bytes: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = bytes;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
