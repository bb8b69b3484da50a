import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { processStartTime } from '../../src/procfs/index.js';
import { LOCK_FILE } from '../../src/spool/lock.js';
import { openSpool } from '../../src/spool/spool.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-spool-lock-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('spool lock', () => {
  it('refuses a spool another live process holds, naming it', async () => {
    const dir = tempDir();
    // The parent of this test process is alive for the whole test: it plays the other agent.
    const start = await processStartTime(process.ppid);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, start }));
    await expect(openSpool({ dir, maxBytes: 1 << 20 })).rejects.toThrow(
      new RegExp(`in use by process ${process.ppid}: two agents cannot share a spool`),
    );
  });

  it('takes over a lock whose process is gone, or whose pid a later process has, and releases it on close', async () => {
    const dir = tempDir();
    const start = (await processStartTime(process.ppid)) ?? 0;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, start: start + 1 }));
    const spool = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    await spool.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    writeFileSync(join(dir, LOCK_FILE), '{"pid":');
    const again = await openSpool({ dir, maxBytes: 1 << 20 });
    await again.close();
  });
});
