import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMamoriError } from '@mamori/common';
import { captureLogs } from '@mamori/common/testing';
import { describe, expect, it } from 'vitest';
import { createEmbeddedBus } from '../../src/index.js';
import { openBus, tempDir } from './helpers.js';
import { errorOf } from '../rejections.js';

describe('embedded bus lock and lifecycle', () => {
  it('refuses a second bus on the same directory with BusLocked naming the holder', async () => {
    const dir = await tempDir();
    await openBus(dir);
    const error = await errorOf(createEmbeddedBus({ dir }));
    expect(isMamoriError(error, 'MAMORI_BUS_LOCKED')).toBe(true);
    expect((error as { context: Record<string, unknown> }).context['pid']).toBe(process.pid);
  });

  it('lets only one of two concurrent opens in one process take the directory', async () => {
    const dir = await tempDir();
    const results = await Promise.allSettled([
      createEmbeddedBus({ dir }),
      createEmbeddedBus({ dir }),
    ]);
    const opened = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(opened).toHaveLength(1);
    expect(isMamoriError(refused[0]?.reason, 'MAMORI_BUS_LOCKED')).toBe(true);
    await (opened[0] as PromiseFulfilledResult<{ close(): Promise<void> }>).value.close();
  });

  it('writes its pid into the lock and removes the lock on close', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    await bus.close();
    await expect(stat(join(dir, 'LOCK'))).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await openBus(dir);
    await again.close();
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dir = await tempDir();
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(exited.stdout.toString());
    await writeFile(join(dir, 'LOCK'), `${deadPid}\n`);

    const { logger, lines } = captureLogs();
    const bus = await openBus(dir, { logger });
    expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).toBe(String(process.pid));
    expect(lines.some((l) => l.msg.includes('taking over the lock') && l['pid'] === deadPid)).toBe(
      true,
    );
    await bus.close();
  });

  it('takes over a lock with its own pid that an earlier process with the same pid left', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'LOCK'), `${process.pid}\n`);
    const bus = await openBus(dir);
    await bus.close();
  });

  it('rejects every operation after close with BusClosed, and closing again is harmless', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't' }]);
    const consumer = bus.consumer({ groupId: 'g', topics: ['t'] });
    await bus.close();
    await bus.close();

    const closed = (err: unknown): boolean => isMamoriError(err, 'MAMORI_BUS_CLOSED');
    expect(closed(await errorOf(bus.produce('t', [{ key: null, value: Buffer.from('x') }])))).toBe(
      true,
    );
    expect(closed(await errorOf(bus.ensureTopics([{ topic: 'u' }])))).toBe(true);
    expect(closed(await errorOf(bus.offsets('t')))).toBe(true);
    expect(closed(await errorOf(bus.committed('g', 't')))).toBe(true);
    expect(closed(await errorOf(bus.read('t', 0, 0)))).toBe(true);
    expect(closed(await errorOf(consumer.run(() => Promise.resolve())))).toBe(true);
    expect(() => bus.consumer({ groupId: 'g', topics: ['t'] })).toThrow(
      expect.objectContaining({ code: 'MAMORI_BUS_CLOSED' }),
    );
  });

  it('flushes produce calls still waiting when close is called', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't' }]);
    const pending = bus.produce('t', [{ key: null, value: Buffer.from('last words') }]);
    await bus.close();
    await expect(pending).resolves.toEqual([{ topic: 't', partition: 0, offset: 0 }]);

    const reopened = await openBus(dir);
    expect((await reopened.read('t', 0, 0)).map((r) => r.value.toString())).toEqual(['last words']);
  });

  it('keeps the settings of an existing topic and persists topics across reopen', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    await bus.ensureTopics([{ topic: 't', partitions: 5 }]);
    expect(await bus.offsets('t')).toHaveLength(3);
    await bus.close();

    const reopened = await openBus(dir);
    expect(await reopened.offsets('t')).toHaveLength(3);
  });

  it('rejects invalid topic specs with BusTopic', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    for (const spec of [
      { topic: 'has space' },
      { topic: '..' },
      { topic: 'x'.repeat(250) },
      { topic: 't', partitions: 0 },
      { topic: 't', retentionMs: 0 },
      { topic: 't', cleanupPolicy: 'shred' as 'compact' },
    ]) {
      expect(isMamoriError(await errorOf(bus.ensureTopics([spec])), 'MAMORI_BUS_TOPIC')).toBe(true);
    }
  });

  it('keeps every record of a compacted topic: it does not compact, and deletes nothing by age unless asked', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    await bus.ensureTopics([
      { topic: 'state', cleanupPolicy: 'compact' },
      { topic: 'state-aged', cleanupPolicy: 'compact', retentionMs: 60_000 },
    ]);
    const meta = async (topic: string) =>
      JSON.parse(await readFile(join(dir, 'topics', topic, 'topic.json'), 'utf8')) as {
        retentionMs: number;
        retentionBytes: number;
      };
    expect(await meta('state')).toMatchObject({ retentionMs: -1, retentionBytes: -1 });
    expect((await meta('state-aged')).retentionMs).toBe(60_000);
    await bus.produce('state', [
      { key: Buffer.from('k'), value: Buffer.from('1') },
      { key: Buffer.from('k'), value: Buffer.from('2') },
    ]);
    expect(await bus.offsets('state')).toEqual([{ partition: 0, low: 0, high: 2 }]);
  });
});
