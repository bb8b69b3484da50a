/**
 * Produce throughput and latency of the Kafka bus against a running broker (not a test; run
 * by hand):
 *
 *   node --conditions=@mamori/source --import tsx \
 *     packages/bus/test/kafka/bench/produce-bench.ts [--brokers 127.0.0.1:19092] [--seconds 5] \
 *     [--producers 8] [--batch 200] [--value-bytes 400] [--partitions 8] [--max-request-bytes N]
 *
 * N concurrent callers each loop `produce(batch)` on one bus for the given time. Creates a
 * topic of its own and deletes it afterwards. Prints one JSON object on its last line.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { createKafkaBus, type ProduceRecord } from '../../../src/index.js';

const { values: args } = parseArgs({
  options: {
    brokers: {
      type: 'string',
      default: process.env['MAMORI_TEST_KAFKA_BROKERS'] ?? '127.0.0.1:19092',
    },
    seconds: { type: 'string', default: '5' },
    producers: { type: 'string', default: '8' },
    batch: { type: 'string', default: '200' },
    'value-bytes': { type: 'string', default: '400' },
    partitions: { type: 'string', default: '8' },
    'max-request-bytes': { type: 'string', default: '1000000' },
  },
});
const brokers = args.brokers.split(',');
const seconds = Number(args.seconds);
const producers = Number(args.producers);
const batchSize = Number(args.batch);
const valueBytes = Number(args['value-bytes']);
const partitions = Number(args.partitions);

const maxProduceRequestBytes = Number(args['max-request-bytes']);
const bus = createKafkaBus({ brokers, clientId: 'mamori-bench', maxProduceRequestBytes });
const topic = `bench-${randomBytes(4).toString('hex')}`;
await bus.ensureTopics([{ topic, partitions }]);

const value = randomBytes(valueBytes);
const batchFor = (producer: number, n: number): ProduceRecord[] =>
  Array.from({ length: batchSize }, (_, i) => ({
    key: Buffer.from(`agent-${producer}-${(n * batchSize + i) % 64}`),
    value,
  }));

// Warm up: connect the producer and fill the partition cache.
await bus.produce(topic, batchFor(0, 0));

const latencies: number[] = [];
let records = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
await Promise.all(
  Array.from({ length: producers }, async (_, p) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const t = performance.now();
      await bus.produce(topic, batchFor(p, n));
      latencies.push(performance.now() - t);
      records += batchSize;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
await bus.close();

const inspector = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
await inspector.connect();
await inspector.deleteTopics({ topics: [topic] });
await inspector.disconnect();

latencies.sort((a, b) => a - b);
const pct = (q: number): number =>
  Number(
    (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(2),
  );
console.log(
  JSON.stringify({
    bus: 'kafka',
    brokers,
    producers,
    batch: batchSize,
    valueBytes,
    partitions,
    maxProduceRequestBytes,
    seconds: Number(elapsed.toFixed(2)),
    records,
    recordsPerSecond: Math.round(records / elapsed),
    megabytesPerSecond: Number(((records * valueBytes) / elapsed / 1e6).toFixed(1)),
    produceLatencyMs: { p50: pct(0.5), p99: pct(0.99), max: pct(1) },
  }),
);
