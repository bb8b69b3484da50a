import { ErrorCode } from '@mamori/common';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, ConsumedBatch, Consumer } from '../../src/index.js';
import {
  brokers,
  createTopic,
  openBus,
  openInspector,
  text,
  uniqueName,
  waitFor,
} from './helpers.js';
import { mamoriErrorOf } from '../rejections.js';

async function produceValues(
  bus: Bus,
  topic: string,
  values: string[],
  partition?: number,
): Promise<void> {
  await bus.produce(
    topic,
    values.map((v) =>
      partition === undefined
        ? { key: text(v), value: text(v) }
        : { key: null, value: text(v), partition },
    ),
  );
}

const values = (batches: ConsumedBatch[]): string[] =>
  batches.flatMap((b) => b.records.map((r) => r.value.toString()));

describe.skipIf(!brokers)('Kafka bus: consumer groups (real broker)', () => {
  let inspector: Admin;
  beforeAll(async () => {
    inspector = await openInspector();
  });
  afterAll(async () => {
    await inspector?.disconnect();
  });

  it('commits only what commit() is given, as the next offset to read, and committed() reads it back', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 2 });
    await produceValues(bus, topic, ['a', 'b', 'c'], 0);
    await produceValues(bus, topic, ['d'], 1);
    const groupId = uniqueName('g');
    const consumer = bus.consumer({ groupId, topics: [topic] });
    const seen: ConsumedBatch[] = [];
    let commitDone = false;
    await consumer.run(async (batch) => {
      seen.push(batch);
      if (batch.partition === 0) {
        await consumer.commit([{ topic, partition: 0, offset: batch.records[1]!.offset + 1 }]);
        commitDone = true;
      }
    });
    await waitFor('4 records', () => values(seen).length === 4 && commitDone);
    expect(await bus.committed(groupId, topic)).toEqual([{ topic, partition: 0, offset: 2 }]);
    expect(await bus.committed(uniqueName('nobody'), topic)).toEqual([]);
    expect(seen.find((b) => b.partition === 0)?.highWatermark).toBe(3);
    await consumer.close();
  });

  it('delivers what was not committed to the next member of the group', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await produceValues(bus, topic, ['1', '2', '3', '4'], 0);
    const groupId = uniqueName('g');

    const first = bus.consumer({ groupId, topics: [topic] });
    const firstSeen: ConsumedBatch[] = [];
    await first.run(async (batch) => {
      firstSeen.push(batch);
      await first.commit([{ topic, partition: 0, offset: batch.records[0]!.offset + 1 }]);
    });
    await waitFor('first member reads', () => values(firstSeen).length === 4);
    await first.close();

    const second = bus.consumer({ groupId, topics: [topic] });
    const secondSeen: ConsumedBatch[] = [];
    await second.run((batch) => {
      secondSeen.push(batch);
      return Promise.resolve();
    });
    await waitFor('second member reads', () => values(secondSeen).length === 3);
    expect(values(secondSeen)).toEqual(['2', '3', '4']);
    await second.close();
  });

  it('delivers a batch again after its handler threw, without skipping it, while other partitions go on', async () => {
    const bus = openBus({ redeliveryBackoff: { initialMs: 300, maxMs: 300 } });
    const topic = await createTopic(bus, inspector, { partitions: 2 });
    await produceValues(bus, topic, ['p0-a', 'p0-b'], 0);
    await produceValues(bus, topic, ['p1-a'], 1);
    const deliveries: Array<{ at: number; batch: ConsumedBatch }> = [];
    let failures = 0;
    const consumer = bus.consumer({ groupId: uniqueName('g'), topics: [topic] });
    await consumer.run((batch) => {
      deliveries.push({ at: Date.now(), batch });
      if (batch.partition === 0 && failures < 2) {
        failures++;
        return Promise.reject(new Error('sink unavailable'));
      }
      return Promise.resolve();
    });
    await waitFor(
      'three deliveries of partition 0',
      () => deliveries.filter((d) => d.batch.partition === 0).length === 3,
    );
    const p0 = deliveries.filter((d) => d.batch.partition === 0);
    for (const d of p0) expect(values([d.batch])).toEqual(['p0-a', 'p0-b']);
    // Full jitter is floored at half the initial delay.
    expect(p0[1]!.at - p0[0]!.at).toBeGreaterThanOrEqual(140);
    expect(values(deliveries.filter((d) => d.batch.partition === 1).map((d) => d.batch))).toEqual([
      'p1-a',
    ]);
    await consumer.close();
  });

  it('splits a fetched batch into chunks of at most maxBatchRecords, in offset order', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    const all = Array.from({ length: 25 }, (_, i) => String(i));
    await produceValues(bus, topic, all, 0);
    const seen: ConsumedBatch[] = [];
    const consumer = bus.consumer({
      groupId: uniqueName('g'),
      topics: [topic],
      maxBatchRecords: 10,
    });
    await consumer.run((batch) => {
      seen.push(batch);
      return Promise.resolve();
    });
    await waitFor('25 records', () => values(seen).length === 25);
    expect(values(seen)).toEqual(all);
    expect(Math.max(...seen.map((b) => b.records.length))).toBeLessThanOrEqual(10);
    expect(seen.flatMap((b) => b.records.map((r) => r.offset))).toEqual(all.map((_, i) => i));
    await consumer.close();
  });

  it("starts at the end of a partition without a commit when startFrom is 'latest'", async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await produceValues(bus, topic, ['old'], 0);
    const seen: ConsumedBatch[] = [];
    const consumer = bus.consumer({
      groupId: uniqueName('g'),
      topics: [topic],
      startFrom: 'latest',
    });
    await consumer.run((batch) => {
      seen.push(batch);
      return Promise.resolve();
    });
    await produceValues(bus, topic, ['new'], 0);
    await waitFor('the new record', () => values(seen).length === 1);
    expect(values(seen)).toEqual(['new']);
    await consumer.close();
  });

  it('refuses to commit a partition it does not own, with BusGroup', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    const consumer = bus.consumer({ groupId: uniqueName('g'), topics: [topic] });
    const notRunning = await mamoriErrorOf(consumer.commit([{ topic, partition: 0, offset: 1 }]));
    expect(notRunning.code).toBe(ErrorCode.BusGroup);
    await consumer.run(() => Promise.resolve());
    expect(consumer.assignment()).toEqual([{ topic, partition: 0 }]);
    const err = await mamoriErrorOf(consumer.commit([{ topic, partition: 5, offset: 1 }]));
    expect(err.code).toBe(ErrorCode.BusGroup);
    expect(err.context).toMatchObject({ topic, partition: 5 });
    await consumer.close();
    expect(consumer.assignment()).toEqual([]);
    expect((await mamoriErrorOf(consumer.run(() => Promise.resolve()))).code).toBe(
      ErrorCode.BusClosed,
    );
  });

  it('rebalances within seconds as members join and leave, never sharing a partition', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 4 });
    const groupId = uniqueName('g');
    const members: Consumer[] = [];
    const join = async (): Promise<Consumer> => {
      const consumer = bus.consumer({ groupId, topics: [topic] });
      members.push(consumer);
      await consumer.run(() => Promise.resolve());
      return consumer;
    };
    const owned = (c: Consumer): number[] => c.assignment().map((a) => a.partition);
    const settled = (cs: Consumer[]): boolean => {
      const all = cs.flatMap(owned).sort();
      return all.join() === '0,1,2,3' && cs.every((c) => owned(c).length > 0);
    };

    const a = await join();
    await waitFor('a owns all', () => settled([a]), 10_000);
    const joinedAt = Date.now();
    const b = await join();
    await waitFor('a and b split the partitions', () => settled([a, b]), 15_000);
    const joinMs = Date.now() - joinedAt;

    const leftAt = Date.now();
    await b.close();
    await waitFor('a owns all again', () => settled([a]), 15_000);
    const leaveMs = Date.now() - leftAt;
    expect(owned(a)).toHaveLength(4);
    // Bounded by the heartbeat interval and fetch wait, not by the session timeout.
    expect(joinMs).toBeLessThan(10_000);
    expect(leaveMs).toBeLessThan(10_000);
    await a.close();
  });

  it('can be closed from its own handler without waiting for itself', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await produceValues(bus, topic, ['only'], 0);
    const consumer = bus.consumer({ groupId: uniqueName('g'), topics: [topic] });
    let closedInside = false;
    await consumer.run(async () => {
      await consumer.close();
      closedInside = true;
    });
    await waitFor('close inside the handler', () => closedInside);
    await bus.close();
  });

  it('fails run() with BusTopic when a topic does not exist', async () => {
    const bus = openBus();
    const consumer = bus.consumer({ groupId: uniqueName('g'), topics: [uniqueName('missing')] });
    const err = await mamoriErrorOf(consumer.run(() => Promise.resolve()));
    expect(err.code).toBe(ErrorCode.BusTopic);
  });
});
