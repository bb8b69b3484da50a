import { describe, expect, it } from 'vitest';
import type { BusRecord } from '../../src/index.js';
import { makeRecords, openBus, readAll, segmentFiles, tempDir, waitFor } from './helpers.js';

const topic = 'retained';

describe('embedded log retention', () => {
  it('deletes the oldest closed segments beyond retentionBytes and reports the new low offset', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir, { segmentBytes: 1024 });
    await bus.ensureTopics([{ topic, retentionBytes: 3000 }]);
    for (let i = 0; i < 20; i++) await bus.produce(topic, makeRecords(10, { from: i * 10 }));

    const { low, high } = (await bus.offsets(topic))[0]!;
    expect(high).toBe(200);
    expect(low).toBeGreaterThan(0);
    const records = await readAll(bus, topic, 0);
    expect(records[0]!.offset).toBe(low);
    expect(records.map((r) => r.offset)).toEqual([...Array(200 - low).keys()].map((i) => i + low));
    // What remains holds at least retentionBytes, and the deleted files are gone.
    const files = await segmentFiles(dir, topic, 0);
    expect(files[0]).toMatch(new RegExp(`${String(low).padStart(20, '0')}\\.log$`));
  });

  it('deletes closed segments older than retentionMs on the periodic check', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir, { segmentBytes: 512, retentionCheckIntervalMs: 20 });
    await bus.ensureTopics([{ topic, retentionMs: 100 }]);
    for (let i = 0; i < 10; i++) await bus.produce(topic, makeRecords(10, { from: i * 10 }));
    expect((await segmentFiles(dir, topic, 0)).length).toBeGreaterThan(2);

    await waitFor(async () => (await segmentFiles(dir, topic, 0)).length === 1, 5000, 'retention');
    const [offsets] = await bus.offsets(topic);
    // Only the active segment is left; it is never deleted.
    expect(offsets!.high).toBe(100);
    expect(offsets!.low).toBeGreaterThan(0);
    expect(offsets!.low).toBeLessThan(100);
  });

  it('resumes a group whose committed offset fell below the low offset at the low offset', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir, { segmentBytes: 1024 });
    await bus.ensureTopics([{ topic, retentionBytes: 2048 }]);
    await bus.produce(topic, makeRecords(5));
    const first = bus.consumer({ groupId: 'slow', topics: [topic] });
    let committedOnce = false;
    await first.run(async (batch) => {
      if (committedOnce) return;
      committedOnce = true;
      await first.commit([{ topic, partition: 0, offset: batch.records[0]!.offset + 1 }]);
    });
    await waitFor(() => committedOnce);
    await first.close();
    expect(await bus.committed('slow', topic)).toEqual([{ topic, partition: 0, offset: 1 }]);

    for (let i = 0; i < 20; i++) await bus.produce(topic, makeRecords(10, { from: 5 + i * 10 }));
    const { low } = (await bus.offsets(topic))[0]!;
    expect(low).toBeGreaterThan(1);

    const second = bus.consumer({ groupId: 'slow', topics: [topic] });
    const seen: BusRecord[] = [];
    await second.run(async (batch) => {
      seen.push(...batch.records);
      await Promise.resolve();
    });
    await waitFor(() => seen.length > 0 && seen.at(-1)!.offset === 204);
    expect(seen[0]!.offset).toBe(low);
    await second.close();
  });
});
