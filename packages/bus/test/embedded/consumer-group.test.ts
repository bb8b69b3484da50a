import { isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import type { BusRecord, ConsumedBatch, Consumer, EmbeddedBus } from '../../src/index.js';
import { makeRecords, openBus, tempDir, waitFor } from './helpers.js';

const topic = 'grouped';

/** Runs a consumer that records every batch and commits after each one. */
async function recordingConsumer(
  bus: EmbeddedBus,
  groupId: string,
  options: { commit?: boolean; startFrom?: 'earliest' | 'latest' } = {},
): Promise<{ consumer: Consumer; records: BusRecord[] }> {
  const records: BusRecord[] = [];
  const consumer = bus.consumer({ groupId, topics: [topic], startFrom: options.startFrom });
  await consumer.run(async (batch) => {
    records.push(...batch.records);
    if (options.commit ?? true) {
      await consumer.commit([
        { topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 },
      ]);
    }
  });
  return { consumer, records };
}

const partitionsOf = (consumer: Consumer): number[] =>
  consumer.assignment().map((tp) => tp.partition);

describe('embedded consumer groups', () => {
  it('gives a lone member every partition and delivers records produced after it waits', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 3 }]);
    const { consumer, records } = await recordingConsumer(bus, 'g');
    expect(partitionsOf(consumer)).toEqual([0, 1, 2]);

    await new Promise((resolve) => setTimeout(resolve, 20)); // the consumer is now idle
    await bus.produce(topic, makeRecords(30));
    await waitFor(() => records.length === 30, 5000, 'all records');
    await consumer.close();
  });

  it('splits partitions between two members and hands them all to the one that stays', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 4 }]);
    const a = await recordingConsumer(bus, 'g');
    const b = await recordingConsumer(bus, 'g');
    expect(partitionsOf(a.consumer)).toHaveLength(2);
    expect(partitionsOf(b.consumer)).toHaveLength(2);
    expect([...partitionsOf(a.consumer), ...partitionsOf(b.consumer)].sort()).toEqual([0, 1, 2, 3]);

    await bus.produce(topic, makeRecords(40, { keys: 40 }));
    await waitFor(() => a.records.length + b.records.length === 40, 5000, 'first round');
    await b.consumer.close();
    expect(partitionsOf(a.consumer)).toEqual([0, 1, 2, 3]);

    await bus.produce(topic, makeRecords(40, { keys: 40, from: 40 }));
    await waitFor(() => a.records.length + b.records.length === 80, 5000, 'second round');
    // Committed offsets were honoured: no record was delivered twice.
    const values = [...a.records, ...b.records].map((r) => r.value.toString());
    expect(new Set(values).size).toBe(80);
    await a.consumer.close();
  });

  it('hands a partition over only after the batch its holder is handling finishes', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    await bus.produce(topic, makeRecords(10));

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let aBatches = 0;
    const a = bus.consumer({ groupId: 'g', topics: [topic] });
    await a.run(async (batch) => {
      aBatches++;
      await gate;
      await a.commit([{ topic, partition: 0, offset: batch.records.at(-1)!.offset + 1 }]);
    });
    await waitFor(() => aBatches === 1);

    const closing = a.close(); // leaves while its handler still runs
    const b = await recordingConsumer(bus, 'g');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.records).toHaveLength(0);
    expect(partitionsOf(b.consumer)).toEqual([]);

    release();
    await closing;
    await waitFor(() => partitionsOf(b.consumer).length === 1);
    await bus.produce(topic, makeRecords(1, { from: 10 }));
    await waitFor(() => b.records.length > 0);
    // b starts from a's commit, made by the handler that was running during the handover.
    expect(b.records.map((r) => r.offset)).toEqual([10]);
    await b.consumer.close();
  });

  it('lets the holder of a partition being handed over commit it from the running batch', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    await bus.produce(topic, [{ key: null, value: Buffer.from('y'), partition: 1 }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const commits: unknown[] = [];
    const a = bus.consumer({ groupId: 'g', topics: [topic] });
    const handled: number[] = [];
    await a.run(async (batch) => {
      handled.push(batch.partition);
      await gate;
      commits.push(
        await a
          .commit([{ topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 }])
          .then(
            () => 'ok',
            (err: unknown) => err,
          ),
      );
    });
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([1]);

    const b = await recordingConsumer(bus, 'g'); // partition 1 now belongs to b
    expect(partitionsOf(a)).toEqual([0]);
    release();
    await waitFor(() => commits.length === 1);
    expect(commits[0]).toBe('ok');
    await waitFor(() => partitionsOf(b.consumer).includes(1));
    expect(await bus.committed('g', topic)).toEqual([{ topic, partition: 1, offset: 1 }]);
    await bus.produce(topic, [{ key: null, value: Buffer.from('z'), partition: 1 }]);
    await waitFor(() => b.records.length === 1);
    expect(b.records[0]!.value.toString()).toBe('z');
    await b.consumer.close();
    await a.close();
  });

  it('refuses to commit a partition not assigned to the member with BusGroup', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    const a = await recordingConsumer(bus, 'g');
    const b = await recordingConsumer(bus, 'g');
    const [bPartition] = partitionsOf(b.consumer);
    let error: unknown;
    try {
      await a.consumer.commit([{ topic, partition: bPartition!, offset: 1 }]);
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_BUS_GROUP')).toBe(true);
    expect(await bus.committed('g', topic)).toEqual([]);
    await a.consumer.close();
    await b.consumer.close();
  });

  it('delivers the same records again after the handler throws, until it succeeds', async () => {
    const bus = await openBus(await tempDir(), { handlerRetry: { initialMs: 5, maxMs: 20 } });
    await bus.ensureTopics([{ topic }]);
    await bus.produce(topic, makeRecords(5));
    const deliveries: ConsumedBatch[] = [];
    const consumer = bus.consumer({ groupId: 'g', topics: [topic] });
    await consumer.run(async (batch) => {
      deliveries.push(batch);
      await Promise.resolve();
      if (deliveries.length < 3) throw new Error('sink unavailable');
    });
    await waitFor(() => deliveries.length === 3);
    for (const batch of deliveries) {
      expect(batch.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    }
    await bus.produce(topic, makeRecords(1, { from: 5 }));
    await waitFor(() => deliveries.length === 4);
    expect(deliveries[3]!.records.map((r) => r.offset)).toEqual([5]);
    await consumer.close();
  });

  it('starts at the end of a partition without a commit when startFrom is latest', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic }]);
    await bus.produce(topic, makeRecords(5));
    const { consumer, records } = await recordingConsumer(bus, 'late', { startFrom: 'latest' });
    await bus.produce(topic, makeRecords(2, { from: 5 }));
    await waitFor(() => records.length === 2);
    expect(records.map((r) => r.offset)).toEqual([5, 6]);
    await consumer.close();
  });

  it('keeps committed offsets across close and reopen of the bus', async () => {
    const dir = await tempDir();
    const bus = await openBus(dir);
    await bus.ensureTopics([{ topic, partitions: 2 }]);
    await bus.produce(topic, makeRecords(20, { keys: 20 }));
    const first = await recordingConsumer(bus, 'durable');
    await waitFor(() => first.records.length === 20);
    // Records are seen before their batch is committed; closing waits for the handler.
    await first.consumer.close();
    const committed = await bus.committed('durable', topic);
    await bus.close();

    const reopened = await openBus(dir);
    expect(await reopened.committed('durable', topic)).toEqual(committed);
    expect(committed.reduce((sum, c) => sum + c.offset, 0)).toBe(20);
    await reopened.produce(topic, makeRecords(4, { keys: 20, from: 20 }));
    const second = await recordingConsumer(reopened, 'durable');
    await waitFor(() => second.records.length === 4);
    expect(second.records.map((r) => r.value.toString()).sort()).toEqual([
      'value-20',
      'value-21',
      'value-22',
      'value-23',
    ]);
    await second.consumer.close();
  });

  it('lists only partitions with a commit, for each group separately', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic, partitions: 3 }]);
    const consumer = bus.consumer({ groupId: 'one', topics: [topic] });
    await consumer.run(() => Promise.resolve());
    await consumer.commit([{ topic, partition: 2, offset: 7 }]);
    expect(await bus.committed('one', topic)).toEqual([{ topic, partition: 2, offset: 7 }]);
    expect(await bus.committed('other', topic)).toEqual([]);
    await consumer.close();
  });

  it('leaves the group after the batch when close is called from its own handler', async () => {
    const bus = await openBus(await tempDir());
    await bus.ensureTopics([{ topic }]);
    await bus.produce(topic, makeRecords(3));
    const consumer = bus.consumer({ groupId: 'g', topics: [topic] });
    let closedFromHandler = false;
    await consumer.run(async () => {
      await consumer.close(); // must not wait for this very handler
      closedFromHandler = true;
    });
    await waitFor(() => closedFromHandler);
    await consumer.close();
    expect(consumer.assignment()).toEqual([]);
    const next = await recordingConsumer(bus, 'g');
    await waitFor(() => partitionsOf(next.consumer).length === 1);
    await next.consumer.close();
  });

  it('refuses to run a consumer of a topic that does not exist with BusTopic', async () => {
    const bus = await openBus(await tempDir());
    const consumer = bus.consumer({ groupId: 'g', topics: ['nowhere'] });
    await expect(consumer.run(() => Promise.resolve())).rejects.toMatchObject({
      code: 'MAMORI_BUS_TOPIC',
    });
  });
});
