/**
 * The behaviour every Bus implementation must show, as one Vitest `describe` block that each
 * implementation runs with a harness of its own:
 *
 *   describeBusConformance('embedded', { open: () => createEmbeddedBus({ dir }) });
 *   describeBusConformance('kafka', { open: () => createKafkaBus(…), deleteTopics, skip });
 *
 * Every test uses its own random topic names and group ids and closes what it opens. Tests
 * wait with polling and a generous timeout, never with fixed sleeps, because Kafka takes
 * seconds to rebalance a group.
 */
import { randomBytes } from 'node:crypto';
import { isMamoriError } from '@mamori/common';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DEAD_LETTER_HEADERS,
  createDeadLetterDecoder,
  partitionForKey,
  type Bus,
  type BusRecord,
  type Consumer,
  type ConsumerOptions,
  type ProduceRecord,
  type TopicPartitionOffset,
  type TopicSpec,
} from '../../src/index.js';

export interface BusConformanceHarness {
  /**
   * Opens a bus on the same backing store every time it is called (the same directory, the
   * same cluster): one test closes a bus and opens another to see what survived. The suite
   * closes every bus it opens, before it opens the next one.
   */
  open(): Promise<Bus> | Bus;
  /** Start of every topic name and group id. @default 'conformance' */
  namePrefix?: string;
  /** Removes topics the suite created, called after each test (e.g. on a shared cluster). */
  deleteTopics?(topics: string[]): Promise<void>;
  /** Longest wait for any one condition, in ms. @default 30000 (a Kafka rebalance takes seconds) */
  waitTimeoutMs?: number;
  /** Timeout of each test, in ms. @default 120000 */
  testTimeoutMs?: number;
  /** Skips the whole suite, e.g. when no broker is configured. @default false */
  skip?: boolean;
}

/** Defines the conformance tests of `name` against the bus the harness opens. */
export function describeBusConformance(name: string, harness: BusConformanceHarness): void {
  const prefix = harness.namePrefix ?? 'conformance';
  const waitTimeoutMs = harness.waitTimeoutMs ?? 30_000;

  /** A topic name or group id no other test (or earlier run) uses. */
  const uniqueName = (kind: string): string =>
    `${prefix}-${kind}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

  async function openBus(): Promise<Bus> {
    const bus = await harness.open();
    onTestFinished(() => bus.close());
    return bus;
  }

  async function createTopic(bus: Bus, spec: Omit<TopicSpec, 'topic'> = {}): Promise<string> {
    const topic = uniqueName('topic');
    registerTopic(topic);
    await bus.ensureTopics([{ topic, ...spec }]);
    return topic;
  }

  function registerTopic(topic: string): void {
    if (harness.deleteTopics !== undefined) onTestFinished(() => harness.deleteTopics?.([topic]));
  }

  async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + waitTimeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${waitTimeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Runs a consumer whose handler keeps every record it gets and, unless told otherwise,
   * commits each batch once handled. It is closed when the test ends (closing twice is fine).
   */
  async function runConsumer(
    bus: Bus,
    options: ConsumerOptions,
    behaviour: { commit?: boolean } = {},
  ): Promise<{ consumer: Consumer; records: BusRecord[] }> {
    const records: BusRecord[] = [];
    const consumer = bus.consumer(options);
    onTestFinished(() => consumer.close());
    await consumer.run(async (batch) => {
      records.push(...batch.records);
      if (behaviour.commit ?? true) {
        await consumer.commit([
          {
            topic: batch.topic,
            partition: batch.partition,
            offset: batch.records.at(-1)!.offset + 1,
          },
        ]);
      }
    });
    return { consumer, records };
  }

  const text = (record: BusRecord): string => record.value.toString();
  const value = (s: string): Buffer => Buffer.from(s);

  describe.skipIf(harness.skip ?? false)(
    `Bus conformance: ${name}`,
    { timeout: harness.testTimeoutMs ?? 120_000 },
    () => {
      it("places a keyed record on the partition of Kafka's murmur2 partitioner and honours an explicit partition", async () => {
        const bus = await openBus();
        const topic = await createTopic(bus, { partitions: 5 });
        const records: ProduceRecord[] = Array.from({ length: 30 }, (_, i) => ({
          key: value(`placement-${i}`),
          value: value(String(i)),
        }));
        const results = await bus.produce(topic, records);
        results.forEach((result, i) => {
          expect(result.topic).toBe(topic);
          expect(result.partition).toBe(partitionForKey(records[i]!.key!, 5));
        });
        const [explicit] = await bus.produce(topic, [
          { key: value('placement-0'), value: value('x'), partition: 4 },
        ]);
        expect(explicit!.partition).toBe(4);
      });

      it('rejects a produce to a topic that does not exist with BusTopic', async () => {
        const bus = await openBus();
        let error: unknown;
        try {
          await bus.produce(uniqueName('missing'), [{ key: null, value: value('x') }]);
        } catch (err) {
          error = err;
        }
        expect(isMamoriError(error, 'MAMORI_BUS_TOPIC')).toBe(true);
      });

      it('keeps the order of records with equal keys across several partitions', async () => {
        const bus = await openBus();
        const partitions = 4;
        const topic = await createTopic(bus, { partitions });
        const keys = Array.from({ length: 12 }, (_, i) => `order-key-${i}`);
        const perKey = 25;
        // Five calls, each carrying the next five sequence numbers of every key, interleaved.
        for (let call = 0; call < 5; call++) {
          const records: ProduceRecord[] = [];
          for (let s = call * 5; s < call * 5 + 5; s++) {
            for (const key of keys) records.push({ key: value(key), value: value(`${key}#${s}`) });
          }
          await bus.produce(topic, records);
        }

        const { records } = await runConsumer(bus, {
          groupId: uniqueName('group'),
          topics: [topic],
        });
        await waitFor(() => records.length >= keys.length * perKey, 'every record');

        const sequences = new Map<string, number[]>();
        const partitionOfKey = new Map<string, Set<number>>();
        for (const record of records) {
          const [key, sequence] = text(record).split('#') as [string, string];
          expect(record.key!.toString()).toBe(key);
          sequences.set(key, [...(sequences.get(key) ?? []), Number(sequence)]);
          partitionOfKey.set(key, (partitionOfKey.get(key) ?? new Set()).add(record.partition));
        }
        for (const key of keys) {
          expect(sequences.get(key), key).toEqual([...Array(perKey).keys()]);
          expect([...partitionOfKey.get(key)!], key).toEqual([
            partitionForKey(value(key), partitions),
          ]);
        }
        expect(new Set(records.map((r) => r.partition)).size).toBeGreaterThan(1);
      });

      it('spreads records over several partitions with dense offsets that offsets() reports', async () => {
        const bus = await openBus();
        const topic = await createTopic(bus, { partitions: 3 });
        const records: ProduceRecord[] = Array.from({ length: 12 }, (_, i) => ({
          key: null,
          value: value(`spread-${i}`),
          partition: i % 3,
        }));
        const results = await bus.produce(topic, records);
        for (let partition = 0; partition < 3; partition++) {
          const offsets = results.filter((r) => r.partition === partition).map((r) => r.offset);
          expect(offsets).toEqual([0, 1, 2, 3].map((i) => offsets[0]! + i));
        }
        const reported = await bus.offsets(topic);
        expect(reported.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
        for (const { partition, low, high } of reported) {
          expect(high - low).toBe(4);
          expect(high).toBe(
            Math.max(...results.filter((r) => r.partition === partition).map((r) => r.offset)) + 1,
          );
        }

        const { records: consumed } = await runConsumer(bus, {
          groupId: uniqueName('group'),
          topics: [topic],
        });
        await waitFor(() => consumed.length >= 12, 'every record');
        for (const [i, result] of results.entries()) {
          const record = consumed.find(
            (r) => r.partition === result.partition && r.offset === result.offset,
          );
          expect(record && text(record), `record ${i}`).toBe(`spread-${i}`);
        }
      });

      it('delivers uncommitted records again after a consumer closes without committing them', async () => {
        const bus = await openBus();
        const topic = await createTopic(bus);
        const groupId = uniqueName('group');
        const results = await bus.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: null, value: value(`redeliver-${i}`) })),
        );
        const base = results[0]!.offset;

        // The first consumer handles all ten but commits only the first four, then "crashes".
        const seen: BusRecord[] = [];
        let committed = false;
        const first = bus.consumer({ groupId, topics: [topic] });
        onTestFinished(() => first.close());
        await first.run(async (batch) => {
          seen.push(...batch.records);
          if (!committed && batch.records.some((r) => r.offset >= base + 3)) {
            await first.commit([{ topic, partition: 0, offset: base + 4 }]);
            committed = true;
          }
        });
        await waitFor(() => seen.length >= 10 && committed, 'the first consumer');
        await first.close();
        expect(await bus.committed(groupId, topic)).toEqual([
          { topic, partition: 0, offset: base + 4 },
        ]);

        const second = await runConsumer(bus, { groupId, topics: [topic] });
        await waitFor(() => second.records.length >= 6, 'redelivery');
        expect(second.records[0]!.offset).toBe(base + 4);
        expect([...new Set(second.records.map(text))].sort()).toEqual(
          [4, 5, 6, 7, 8, 9].map((i) => `redeliver-${i}`),
        );
      });

      it('delivers a batch again when its handler throws', async () => {
        const bus = await openBus();
        const topic = await createTopic(bus);
        await bus.produce(
          topic,
          [0, 1, 2].map((i) => ({ key: null, value: value(`retry-${i}`) })),
        );
        const firstOffsets: number[] = [];
        const handled = new Set<string>();
        const consumer = bus.consumer({ groupId: uniqueName('group'), topics: [topic] });
        onTestFinished(() => consumer.close());
        await consumer.run(async (batch) => {
          firstOffsets.push(batch.records[0]!.offset);
          if (firstOffsets.length === 1) throw new Error('the sink is down');
          for (const record of batch.records) handled.add(text(record));
          await consumer.commit([
            { topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 },
          ]);
        });
        await waitFor(() => handled.size === 3, 'the batch to be delivered again');
        expect(firstOffsets[1]).toBe(firstOffsets[0]);
      });

      it('resumes from the committed offsets after the whole bus is closed and opened again', async () => {
        const groupId = uniqueName('group');
        const bus = await openBus();
        const topic = await createTopic(bus, { partitions: 2 });
        await bus.produce(
          topic,
          Array.from({ length: 20 }, (_, i) => ({
            key: value(`k${i}`),
            value: value(`before-${i}`),
          })),
        );
        const first = await runConsumer(bus, { groupId, topics: [topic] });
        const committedTotal = async (b: Bus): Promise<number> =>
          (await b.committed(groupId, topic)).reduce((sum, c) => sum + c.offset, 0);
        const highTotal = async (b: Bus): Promise<number> =>
          (await b.offsets(topic)).reduce((sum, p) => sum + p.high, 0);
        const high = await highTotal(bus);
        await waitFor(async () => (await committedTotal(bus)) === high, 'every record committed');
        const byPartition = (offsets: TopicPartitionOffset[]): TopicPartitionOffset[] =>
          [...offsets].sort((x, y) => x.partition - y.partition);
        const committed = byPartition(await bus.committed(groupId, topic));
        await first.consumer.close();
        await bus.close();

        const reopened = await openBus();
        expect(byPartition(await reopened.committed(groupId, topic))).toEqual(committed);
        await reopened.produce(
          topic,
          Array.from({ length: 6 }, (_, i) => ({
            key: value(`k${i}`),
            value: value(`after-${i}`),
          })),
        );
        const second = await runConsumer(reopened, { groupId, topics: [topic] });
        await waitFor(() => second.records.length >= 6, 'the new records');
        expect([...new Set(second.records.map(text))].sort()).toEqual(
          Array.from({ length: 6 }, (_, i) => `after-${i}`),
        );
      });

      it('shares the partitions of a group between two consumers and hands all of them to the one that stays', async () => {
        const bus = await openBus();
        const partitions = 4;
        const topic = await createTopic(bus, { partitions });
        const groupId = uniqueName('group');
        const a = await runConsumer(bus, { groupId, topics: [topic] });
        const b = await runConsumer(bus, { groupId, topics: [topic] });
        const owned = (c: Consumer): number[] =>
          c
            .assignment()
            .filter((tp) => tp.topic === topic)
            .map((tp) => tp.partition)
            .sort();
        await waitFor(() => {
          const [ofA, ofB] = [owned(a.consumer), owned(b.consumer)];
          return (
            ofA.length > 0 &&
            ofB.length > 0 &&
            [...ofA, ...ofB].sort().join() === [...Array(partitions).keys()].join()
          );
        }, 'both consumers to share the partitions');

        const produceRound = (round: string): Promise<unknown> =>
          bus.produce(
            topic,
            Array.from({ length: 40 }, (_, i) => ({
              key: value(`share-${i}`),
              value: value(`${round}-${i}`),
            })),
          );
        const handled = (round: string, ...sets: BusRecord[][]): Set<string> =>
          new Set(
            sets
              .flat()
              .map(text)
              .filter((v) => v.startsWith(`${round}-`)),
          );

        await produceRound('one');
        await waitFor(() => handled('one', a.records, b.records).size === 40, 'the first round');
        const bPartitions = owned(b.consumer);
        expect(new Set(b.records.map((r) => r.partition)).size).toBeGreaterThan(0);

        await b.consumer.close();
        await waitFor(
          () => owned(a.consumer).length === partitions,
          'the survivor to own every partition',
        );
        await produceRound('two');
        await waitFor(() => handled('two', a.records).size === 40, 'the second round');
        const fromB = a.records.filter(
          (r) => text(r).startsWith('two-') && bPartitions.includes(r.partition),
        );
        expect(fromB.length).toBeGreaterThan(0);
      });

      it('refuses to commit a partition the consumer is not assigned with BusGroup', async () => {
        const bus = await openBus();
        const topic = await createTopic(bus, { partitions: 1 });
        const { consumer } = await runConsumer(bus, {
          groupId: uniqueName('group'),
          topics: [topic],
        });
        await waitFor(() => consumer.assignment().length === 1, 'the assignment');
        let error: unknown;
        try {
          await consumer.commit([{ topic, partition: 7, offset: 1 }]);
        } catch (err) {
          error = err;
        }
        expect(isMamoriError(error, 'MAMORI_BUS_GROUP')).toBe(true);
      });

      it('sends an undecodable record to the dead-letter topic and goes on with its partition', async () => {
        const bus = await openBus();
        const topic = await createTopic(bus, { partitions: 1 });
        const deadLetterTopic = `${topic}.dlq`;
        registerTopic(deadLetterTopic);
        const groupId = uniqueName('group');
        const payloads = ['{"n":0}', 'not json', '{"n":2}', '{"n":3}'];
        const results = await bus.produce(
          topic,
          payloads.map((p) => ({
            key: value('agent-1'),
            value: value(p),
            headers: { kind: 'event' },
          })),
        );
        const base = results[0]!.offset;

        const decode = createDeadLetterDecoder({
          bus,
          groupId,
          decode: (record) => JSON.parse(record.value.toString()) as { n: number },
        });
        const processed: number[] = [];
        const consumer = bus.consumer({ groupId, topics: [topic] });
        onTestFinished(() => consumer.close());
        await consumer.run(async (batch) => {
          for (const { value: decoded } of await decode(batch)) processed.push(decoded.n);
          await consumer.commit([
            { topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 },
          ]);
        });
        const committedOffset = async (): Promise<number | undefined> =>
          (await bus.committed(groupId, topic))[0]?.offset;
        await waitFor(
          async () => (await committedOffset()) === base + 4,
          'the batch to be committed',
        );
        expect(processed).toEqual([0, 2, 3]);

        // The partition keeps going after the bad record.
        await bus.produce(topic, [{ key: value('agent-1'), value: value('{"n":4}') }]);
        await waitFor(async () => (await committedOffset()) === base + 5, 'the next record');
        expect(processed).toEqual([0, 2, 3, 4]);

        const letters = await runConsumer(bus, {
          groupId: uniqueName('group'),
          topics: [deadLetterTopic],
        });
        await waitFor(() => letters.records.length >= 1, 'the dead letter');
        const [letter] = letters.records;
        expect(text(letter!)).toBe('not json');
        expect(letter!.key!.toString()).toBe('agent-1');
        expect(letter!.headers).toMatchObject({
          kind: 'event',
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: '0',
          [DEAD_LETTER_HEADERS.offset]: String(base + 1),
          [DEAD_LETTER_HEADERS.groupId]: groupId,
        });
        expect(letter!.headers[DEAD_LETTER_HEADERS.error]).toBeTruthy();
      });
    },
  );
}
