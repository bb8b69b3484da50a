import { ErrorCode, isMamoriError, MamoriError } from '@mamori/common';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/index.js';
import { brokers, createTopic, openBus, openInspector, text, uniqueName } from './helpers.js';
import { mamoriErrorOf } from '../rejections.js';

/** Every record of a topic, read with a plain kafkajs consumer (producer ids included). */
async function readAll(
  topic: string,
  expected: number,
): Promise<Array<KafkaMessage & { partition: number }>> {
  const kafka = new Kafka({
    brokers: brokers ?? [],
    clientId: 'mamori-test-reader',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const out: Array<KafkaMessage & { partition: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${out.length} of ${expected} records`)),
        20_000,
      );
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          out.push({ ...message, partition });
          if (out.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function topicConfig(inspector: Admin, topic: string): Promise<Record<string, string>> {
  const { resources } = await inspector.describeConfigs({
    includeSynonyms: false,
    resources: [
      { type: 2 /* TOPIC */, name: topic, configNames: ['retention.ms', 'retention.bytes'] },
    ],
  });
  return Object.fromEntries(
    (resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
  );
}

describe.skipIf(!brokers)('Kafka bus: topics, produce and offsets (real broker)', () => {
  let inspector: Admin;
  beforeAll(async () => {
    inspector = await openInspector();
  });
  afterAll(async () => {
    await inspector?.disconnect();
  });

  it('creates a topic with the partitions and retention it was given', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, {
      partitions: 3,
      retentionMs: 3_600_000,
      retentionBytes: 5_000_000,
    });
    const metadata = await inspector.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);
    expect(await topicConfig(inspector, topic)).toEqual({
      'retention.ms': '3600000',
      'retention.bytes': '5000000',
    });
  });

  it("sets Kafka's retention defaults explicitly when a spec names none", async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    expect(await topicConfig(inspector, topic)).toEqual({
      'retention.ms': '604800000',
      'retention.bytes': '-1',
    });
    expect(await bus.offsets(topic)).toEqual([{ partition: 0, low: 0, high: 0 }]);
  });

  it('creates a compacted topic with cleanup.policy=compact', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { cleanupPolicy: 'compact' });
    const { resources } = await inspector.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }],
    });
    expect(resources[0]?.configEntries.map((e) => [e.configName, e.configValue])).toEqual([
      ['cleanup.policy', 'compact'],
    ]);
  });

  it('leaves an existing topic as it is', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 2, retentionMs: 60_000 });
    await bus.ensureTopics([{ topic, partitions: 5, retentionMs: 120_000 }]);
    expect(await bus.offsets(topic)).toHaveLength(2);
    expect((await topicConfig(inspector, topic))['retention.ms']).toBe('60000');
  });

  it('rejects invalid topic specs with BusTopic, before creating anything', async () => {
    const bus = openBus();
    const good = uniqueName('t');
    for (const spec of [
      { topic: 'has space', partitions: 1 },
      { topic: uniqueName('t'), partitions: 0 },
      { topic: uniqueName('t'), retentionMs: -5 },
    ]) {
      const err = await mamoriErrorOf(bus.ensureTopics([{ topic: good }, spec]));
      expect(err.code).toBe(ErrorCode.BusTopic);
    }
    expect((await inspector.listTopics()).includes(good)).toBe(false);
  });

  it('writes through an idempotent producer session (producer id and sequence numbers on every batch)', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await bus.produce(topic, [{ key: text('a'), value: text('1') }]);
    await bus.produce(topic, [
      { key: text('b'), value: text('2') },
      { key: text('c'), value: text('3') },
    ]);
    const records = await readAll(topic, 3);
    const batches = records.map(
      (r) =>
        (r as unknown as { batchContext: { producerId: string; firstSequence: number } })
          .batchContext,
    );
    expect(batches.every((b) => Number(b.producerId) >= 0)).toBe(true);
    expect(new Set(batches.map((b) => b.producerId)).size).toBe(1);
    // Sequence numbers count records per partition: the second batch starts after the first.
    expect(batches.map((b) => b.firstSequence)).toEqual([0, 1, 1]);
  });

  it('puts keyed records where partitionForKey says, honours explicit partitions, spreads null keys', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 4 });
    const keys = Array.from({ length: 20 }, (_, i) => text(`key-${i}`));
    const keyed = await bus.produce(
      topic,
      keys.map((key) => ({ key, value: text('v') })),
    );
    expect(keyed.map((r) => r.partition)).toEqual(keys.map((key) => partitionForKey(key, 4)));

    const explicit = await bus.produce(topic, [
      { key: text('key-0'), value: text('v'), partition: 3 },
    ]);
    expect(explicit[0]?.partition).toBe(3);

    const spread = await bus.produce(
      topic,
      Array.from({ length: 8 }, () => ({ key: null, value: text('v') })),
    );
    expect(new Set(spread.map((r) => r.partition)).size).toBe(4);
  });

  it('resolves each call with offsets in input order, also when concurrent calls share a request', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 3 });
    const calls = Array.from({ length: 8 }, (_, c) =>
      Array.from({ length: 25 }, (_, i) => ({ key: text(`k${i % 5}`), value: text(`${c}:${i}`) })),
    );
    const results = await Promise.all(calls.map((records) => bus.produce(topic, records)));

    const stored = new Map(
      (await readAll(topic, 200)).map((m) => [`${m.partition}@${m.offset}`, m.value?.toString()]),
    );
    calls.forEach((records, c) =>
      records.forEach((record, i) => {
        const result = results[c]![i]!;
        expect(result.topic).toBe(topic);
        expect(stored.get(`${result.partition}@${result.offset}`)).toBe(record.value.toString());
      }),
    );
    const high = (await bus.offsets(topic)).reduce((sum, p) => sum + p.high, 0);
    expect(high).toBe(200);
  });

  it('keeps headers, timestamps and null keys', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await bus.produce(topic, [
      {
        key: null,
        value: text('v'),
        headers: { 'content-type': 'x/y' },
        timestamp: 1_700_000_000_000,
      },
    ]);
    const [message] = await readAll(topic, 1);
    expect(message?.key).toBeNull();
    expect(message?.headers?.['content-type']?.toString()).toBe('x/y');
    expect(message?.timestamp).toBe('1700000000000');
  });

  it('sends a call larger than one request as several, in order, on one partition', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 2 });
    // 3 MB for one key: over the broker's 1 MiB message.max.bytes for one partition's batch.
    const records = Array.from({ length: 6000 }, (_, i) => ({
      key: text('one-agent'),
      value: Buffer.from(String(i).padStart(500, '0')),
    }));
    const results = await bus.produce(topic, records);
    const partition = partitionForKey(text('one-agent'), 2);
    expect(results.every((r) => r.partition === partition)).toBe(true);
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => results[0]!.offset + i));
    const messages = await readAll(topic, 6000);
    expect(messages.map((m) => Number(m.value?.toString()))).toEqual(records.map((_, i) => i));
  });

  it('fails fast with BusTopic for a topic that does not exist', async () => {
    const bus = openBus();
    const started = Date.now();
    const produced = await mamoriErrorOf(
      bus.produce(uniqueName('missing'), [{ key: null, value: text('v') }]),
    );
    expect(produced.code).toBe(ErrorCode.BusTopic);
    expect(produced.retriable).toBe(false);
    expect((await mamoriErrorOf(bus.offsets(uniqueName('missing')))).code).toBe(ErrorCode.BusTopic);
    // kafkajs alone retries an unknown topic for seconds; the bus asks the broker once.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('fails with BusTopic for a partition the topic does not have', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector, { partitions: 2 });
    const err = await mamoriErrorOf(
      bus.produce(topic, [{ key: null, value: text('v'), partition: 2 }]),
    );
    expect(err.code).toBe(ErrorCode.BusTopic);
    expect(err.context).toMatchObject({ topic, partition: 2 });
  });

  it('fails with TooLarge when a record exceeds the broker limit', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    const err = await mamoriErrorOf(
      bus.produce(topic, [{ key: null, value: Buffer.alloc(2 * 1024 * 1024) }]),
    );
    expect(err.code).toBe(ErrorCode.TooLarge);
    // The bus is still usable afterwards (a new producer session).
    expect(await bus.produce(topic, [{ key: null, value: text('small') }])).toHaveLength(1);
  });

  it('reports an unreachable broker as a retriable BusUnavailable', async () => {
    const bus = openBus({ brokers: ['127.0.0.1:1'], retries: 1, connectionTimeoutMs: 300 });
    const err = await mamoriErrorOf(bus.produce('anything', [{ key: null, value: text('v') }]));
    expect(err.code).toBe(ErrorCode.BusUnavailable);
    expect(err.retriable).toBe(true);
  });

  it('keeps working after another client deletes a topic it used', async () => {
    const bus = openBus();
    const kept = await createTopic(bus, inspector);
    const deleted = await createTopic(bus, inspector);
    await bus.produce(deleted, [{ key: null, value: text('v') }]);
    await bus.offsets(deleted);
    await inspector.deleteTopics({ topics: [deleted] });

    // kafkajs would now fail every metadata refresh on the deleted topic.
    const fresh = await createTopic(bus, inspector);
    expect(await bus.produce(fresh, [{ key: null, value: text('v') }])).toHaveLength(1);
    expect(await bus.produce(kept, [{ key: null, value: text('v') }])).toHaveLength(1);
    expect(await bus.offsets(fresh)).toEqual([{ partition: 0, low: 0, high: 1 }]);
  });

  it('refuses every operation with BusClosed after close, and close is idempotent', async () => {
    const bus = openBus();
    const topic = await createTopic(bus, inspector);
    await bus.produce(topic, [{ key: null, value: text('v') }]);
    await Promise.all([bus.close(), bus.close()]);
    const err = await mamoriErrorOf(bus.produce(topic, [{ key: null, value: text('v') }]));
    expect(isMamoriError(err, ErrorCode.BusClosed)).toBe(true);
    expect(() => bus.consumer({ groupId: 'g', topics: [topic] })).toThrow(MamoriError);
  });
});

describe.skipIf(!brokers)('Kafka bus with producer threads (real broker)', () => {
  let inspector: Admin;
  beforeAll(async () => {
    inspector = await openInspector();
  });
  afterAll(async () => {
    await inspector?.disconnect();
  });

  it('keeps keys, headers, timestamps and per-record offsets across the thread', async () => {
    const bus = openBus({ producerThreads: 2 });
    const topic = await createTopic(bus, inspector, { partitions: 3 });
    const shared = { kind: 'process_exec' };
    const results = await bus.produce(topic, [
      { key: text('agent-1'), value: text('a'), headers: shared, timestamp: 1_700_000_000_000 },
      { key: text('agent-1'), value: text('b'), headers: shared },
      { key: null, value: text('c'), partition: 2 },
    ]);
    const partition = partitionForKey(text('agent-1'), 3);
    expect(results.map((r) => [r.topic, r.partition])).toEqual([
      [topic, partition],
      [topic, partition],
      [topic, 2],
    ]);
    expect(results[1]!.offset).toBe(results[0]!.offset + 1);
    const messages = await readAll(topic, 3);
    const first = messages.find((m) => m.value?.toString() === 'a');
    expect(first?.key?.toString()).toBe('agent-1');
    expect(first?.headers?.['kind']?.toString()).toBe('process_exec');
    expect(first?.timestamp).toBe('1700000000000');
    expect(messages.find((m) => m.value?.toString() === 'c')?.key).toBeNull();
  });

  it('carries the error code of a failure back from the thread', async () => {
    const bus = openBus({ producerThreads: 2 });
    const produced = await mamoriErrorOf(
      bus.produce(uniqueName('missing'), [{ key: null, value: text('v') }]),
    );
    expect(produced.code).toBe(ErrorCode.BusTopic);
    expect(produced.retriable).toBe(false);
    // Bad records are refused before they reach the thread.
    const invalid = await mamoriErrorOf(
      bus.produce(uniqueName('any'), [{ key: null, value: 'not a buffer' as unknown as Buffer }]),
    );
    expect(invalid.code).toBe(ErrorCode.Validation);
  });

  it('refuses options that cannot be sent to a thread', () => {
    expect(() =>
      openBus({ producerThreads: 2, ssl: { checkServerIdentity: () => undefined } }),
    ).toThrow(/cannot be sent to a thread/);
  });
});
