import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createExeHasher } from '../../src/procfs/index.js';

const sha256 = (path: string) =>
  `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;

/** A copy of sleep under a name of its own, running until the test ends. */
function running(): { child: ChildProcess; exe: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-exe-hash-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, 'payload');
  copyFileSync('/bin/sleep', exe);
  chmodSync(exe, 0o755);
  const child = spawn(exe, ['30'], { stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  return { child, exe };
}

const always = () => true;

describe('executable hashes', () => {
  it('hashes the program a process runs, once while it stays unchanged, also after it was deleted', async () => {
    const { child, exe } = running();
    const expected = sha256(exe);
    const hasher = createExeHasher({ maxBytes: 64 << 20 });
    const link = `/proc/${child.pid}/exe`;
    await expect.poll(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('payload');
    expect(await hasher.hash(link, always)).toBe(expected);
    expect(await hasher.hash(link, always)).toBe(expected);
    expect(hasher.stats()).toMatchObject({ hashed: 1, cached: 1 });

    // A dropper deletes its program once it runs: the link still opens the running file.
    unlinkSync(exe);
    expect(await hasher.hash(link, always)).toBe(expected);
  });

  it('reads a new program once for many processes at once', async () => {
    const { child, exe } = running();
    const hasher = createExeHasher({ maxBytes: 64 << 20 });
    const link = `/proc/${child.pid}/exe`;
    await expect.poll(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('payload');
    const answers = await Promise.all(Array.from({ length: 5 }, () => hasher.hash(link, always)));
    expect(new Set(answers)).toEqual(new Set([sha256(exe)]));
    expect(hasher.stats()).toMatchObject({ hashed: 1, cached: 4 });
  });

  it('hashes at most its budget of bytes a second, so that rewritten programs cannot keep it busy', async () => {
    const { child, exe } = running();
    const link = `/proc/${child.pid}/exe`;
    await expect.poll(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('payload');
    const size = statSync(exe).size;
    let clock = 0;
    // A budget of one file a second, and a burst of one file.
    const hasher = createExeHasher({ maxBytes: size, bytesPerSecond: size, now: () => clock });
    expect(await hasher.hash(link, always)).toBe(sha256(exe));
    // The same file again is free (the cache); a rewritten one costs its size again.
    expect(await hasher.hash(link, always)).toBe(sha256(exe));
    utimesSync(exe, new Date(), new Date(Date.now() + 60_000));
    expect(await hasher.hash(link, always)).toBeUndefined();
    expect(hasher.stats()).toMatchObject({ hashed: 1, cached: 1, overBudget: 1 });
    clock += 1000;
    expect(await hasher.hash(link, always)).toBe(sha256(exe));
    expect(hasher.stats()).toMatchObject({ hashed: 2, overBudget: 1 });
  });

  it('hashes a process gone before it was read from its path, when the file there is still the one it ran', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-exe-hash-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const exe = join(dir, 'dropper');
    copyFileSync('/bin/sleep', exe);
    const identityOf = (path: string) => {
      const s = statSync(path, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    };
    // What the helper read while the process ran; /proc/<pid>/exe is gone now.
    const gone = { identity: identityOf(exe), path: exe };
    const link = '/proc/999999999/exe';
    const hasher = createExeHasher({ maxBytes: 64 << 20 });
    expect(await hasher.hash(link, always, gone)).toBe(sha256(exe));
    expect(await hasher.hash(link, always, gone)).toBe(sha256(exe));
    expect(hasher.stats()).toMatchObject({ hashed: 1, cached: 1 });

    // The file at the path was replaced since: not the program that ran, so no hash.
    const other = createExeHasher({ maxBytes: 64 << 20 });
    writeFileSync(exe, 'another program');
    expect(await other.hash(link, always, gone)).toBeUndefined();
    // A symbolic link put in its place is not followed.
    rmSync(exe);
    symlinkSync('/bin/sleep', exe);
    expect(await other.hash(link, always, gone)).toBeUndefined();
    expect(other.stats()).toMatchObject({ hashed: 0, unreadable: 2 });
  });

  it('leaves out programs over the limit, processes that are gone, and a pid that changed hands', async () => {
    const { child } = running();
    const link = `/proc/${child.pid}/exe`;
    await expect.poll(() => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim()).toBe('payload');
    const small = createExeHasher({ maxBytes: 1000 });
    expect(await small.hash(link, always)).toBeUndefined();
    expect(small.stats()).toMatchObject({ tooLarge: 1, hashed: 0 });

    const hasher = createExeHasher({ maxBytes: 64 << 20 });
    expect(await hasher.hash(link, () => false)).toBeUndefined();
    expect(hasher.stats().hashed).toBe(0);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(await hasher.hash(link, always)).toBeUndefined();
    expect(hasher.stats().unreadable).toBe(1);
  });
});
