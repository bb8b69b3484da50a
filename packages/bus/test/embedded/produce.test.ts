import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isMamoriError, isRetriable } from '@mamori/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { partitionForKey } from '../../src/index.js';
import { makeRecords, openBus, readAll, segmentFiles, tempDir } from './helpers.js';
import { errorOf } from '../rejections.js';

/** The prototype of fs/promises FileHandle, to inject I/O failures. */
async function fileHandlePrototype(dir: string): Promise<FileHandle> {
  const handle = await open(join(dir, 'probe'), 'w');
  await handle.close();
  return Object.getPrototypeOf(handle) as FileHandle;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('embedded bus produce', () => {
  it("places keyed records on Kafka's murmur2 partition and spreads null keys round-robin", async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]);
    const keyed = makeRecords(40, { keys: 40 });
    const results = await bus.produce('t', keyed);
    results.forEach((result, i) => {
      expect(result.partition).toBe(partitionForKey(keyed[i]!.key!, 4));
    });
    const spread = await bus.produce(
      't',
      Array.from({ length: 8 }, () => ({ key: null, value: Buffer.from('x') })),
    );
    expect(spread.map((r) => r.partition)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
  });

  it('honours an explicit partition and rejects one the topic lacks with BusTopic', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    const [result] = await bus.produce('t', [
      { key: Buffer.from('k'), value: Buffer.alloc(1), partition: 1 },
    ]);
    expect(result).toEqual({ topic: 't', partition: 1, offset: 0 });
    for (const partition of [2, -1, 0.5]) {
      const error = await errorOf(
        bus.produce('t', [{ key: null, value: Buffer.alloc(1), partition }]),
      );
      expect(isMamoriError(error, 'MAMORI_BUS_TOPIC')).toBe(true);
    }
    // Nothing of a rejected call was written.
    expect((await bus.offsets('t')).map((p) => p.high)).toEqual([0, 1]);
  });

  it('rejects a produce to a topic that does not exist with BusTopic', async () => {
    const bus = await openBus(await tempDir());
    const error = await errorOf(bus.produce('missing', makeRecords(1)));
    expect(isMamoriError(error, 'MAMORI_BUS_TOPIC')).toBe(true);
  });

  it('rejects a call larger than maxProduceBytes with TooLarge', async () => {
    const bus = await openBus(await tempDir(), { maxProduceBytes: 1000 });
    await bus.ensureTopics([{ topic: 't' }]);
    const error = await errorOf(bus.produce('t', [{ key: null, value: Buffer.alloc(2000) }]));
    expect(isMamoriError(error, 'MAMORI_TOO_LARGE')).toBe(true);
  });

  it('gives dense offsets in call order and reads back across rolled segments', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir, { segmentBytes: 2048 });
    await bus.ensureTopics([{ topic: 't' }]);
    const calls = Array.from({ length: 15 }, (_, i) =>
      bus.produce('t', makeRecords(7, { from: i * 7 })),
    );
    const offsets = (await Promise.all(calls)).flat().map((r) => r.offset);
    expect(offsets).toEqual([...Array(105).keys()]);
    // Segments roll between flushes; calls one after the other make one flush each.
    for (let i = 15; i < 30; i++) await bus.produce('t', makeRecords(7, { from: i * 7 }));
    expect((await segmentFiles(dir, 't', 0)).length).toBeGreaterThan(3);
    const records = await readAll(bus, 't', 0);
    expect(records.map((r) => r.value.toString())).toEqual(
      makeRecords(210).map((r) => r.value.toString()),
    );
    // Reads from the middle of a closed segment find their place.
    expect((await bus.read('t', 0, 101, 3)).map((r) => r.offset)).toEqual([101, 102, 103]);
  });

  it('stores shared and distinct header objects and key buffers of one call record by record', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic: 't', partitions: 3 }]);
    const sharedKey = Buffer.from('tenant/agent');
    const shared = { kind: 'process_exec', seq: '7' };
    const results = await bus.produce('t', [
      { key: sharedKey, value: Buffer.from('a'), headers: shared },
      { key: sharedKey, value: Buffer.from('b'), headers: { kind: 'dns_query', seq: '7' } },
      { key: sharedKey, value: Buffer.from('c'), headers: shared },
      { key: Buffer.from('other'), value: Buffer.from('d') },
    ]);
    const partition = partitionForKey(sharedKey, 3);
    expect(results.slice(0, 3).map((r) => r.partition)).toEqual([partition, partition, partition]);
    expect(results[3]!.partition).toBe(partitionForKey(Buffer.from('other'), 3));
    const records = await readAll(bus, 't', partition);
    expect(records.map((r) => [r.value.toString(), r.headers])).toEqual([
      ['a', shared],
      ['b', { kind: 'dns_query', seq: '7' }],
      ['c', shared],
    ]);
  });

  it('shares one fsync among produce calls that arrive while another fsync runs', async () => {
    const dir = await tempDir();
    const prototype = await fileHandlePrototype(dir);
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't' }]);
    const datasync = vi.spyOn(prototype, 'datasync');
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => bus.produce('t', makeRecords(5, { from: i * 5 }))),
    );
    expect(datasync.mock.calls.length).toBeGreaterThan(0);
    expect(datasync.mock.calls.length).toBeLessThan(10);
    expect((await bus.offsets('t'))[0]!.high).toBe(500);
  });

  it('neither acknowledges nor shows records to readers before their fsync completes', async () => {
    const dir = await tempDir();
    const prototype = await fileHandlePrototype(dir);
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't' }]);
    const original = Object.getOwnPropertyDescriptor(prototype, 'datasync')!
      .value as FileHandle['datasync'];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(prototype, 'datasync').mockImplementation(async function (this: FileHandle) {
      await gate;
      return original.call(this);
    });

    let acknowledged = false;
    const produced = bus.produce('t', makeRecords(3)).then(() => (acknowledged = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(acknowledged).toBe(false);
    expect((await bus.offsets('t'))[0]!.high).toBe(0);
    expect(await bus.read('t', 0, 0)).toEqual([]);

    release();
    await produced;
    expect((await bus.offsets('t'))[0]!.high).toBe(3);
    expect(await bus.read('t', 0, 0)).toHaveLength(3);
  });

  it('rejects waiting produce calls with a retriable BusUnavailable when a write fails, and stays consistent', async () => {
    const dir = await tempDir();
    const prototype = await fileHandlePrototype(dir);
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic: 't' }]);
    await bus.produce('t', makeRecords(5));

    // The failing write gets half its data onto the disk before the error, as a full disk would.
    const original = Object.getOwnPropertyDescriptor(prototype, 'writev')!
      .value as FileHandle['writev'];
    vi.spyOn(prototype, 'writev').mockImplementationOnce(async function (
      this: FileHandle,
      buffers: readonly NodeJS.ArrayBufferView[],
      position?: number,
    ) {
      const first = buffers[0] as Buffer;
      await original.call(this, [first.subarray(0, first.length >> 1)], position);
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    const failed = await Promise.allSettled([
      bus.produce('t', makeRecords(4, { from: 100 })),
      bus.produce('t', makeRecords(4, { from: 200 })),
    ]);
    for (const result of failed) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as unknown;
      expect(isMamoriError(reason, 'MAMORI_BUS_UNAVAILABLE')).toBe(true);
      expect(isRetriable(reason)).toBe(true);
    }
    expect((await bus.offsets('t'))[0]!.high).toBe(5);

    // The next call succeeds right after the durable records, and nothing half-written remains.
    const results = await bus.produce('t', makeRecords(2, { from: 300 }));
    expect(results.map((r) => r.offset)).toEqual([5, 6]);
    await bus.close();
    const reopened = await openBus(dir);
    expect((await readAll(reopened, 't', 0)).map((r) => r.value.toString())).toEqual([
      ...makeRecords(5).map((r) => r.value.toString()),
      'value-300',
      'value-301',
    ]);
  });
});
