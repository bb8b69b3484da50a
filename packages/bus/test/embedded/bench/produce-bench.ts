/**
 * Produce throughput and latency of the embedded bus (not a test; run by hand):
 *
 *   node --conditions=@mamori/source --import tsx \
 *     packages/bus/test/embedded/bench/produce-bench.ts [--seconds 5] [--producers 8] \
 *     [--batch 200] [--value-bytes 400] [--partitions 8] [--no-fsync] [--consume]
 *
 * Prints one JSON object on its last line. It belongs with the other benchmarks in load-tests/
 * once that package exposes a `bench:bus` entry.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmbeddedBus } from '../../../src/index.js';
import type { ProduceRecord } from '../../../src/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    producers: { type: 'string', default: '8' },
    batch: { type: 'string', default: '200' },
    'value-bytes': { type: 'string', default: '400' },
    partitions: { type: 'string', default: '8' },
    'no-fsync': { type: 'boolean', default: false },
    consume: { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const producers = Number(args.producers);
const batchSize = Number(args.batch);
const valueBytes = Number(args['value-bytes']);
const partitions = Number(args.partitions);

const dir = args.dir ?? (await mkdtemp(join(tmpdir(), 'mamori-bench-')));
const bus = await createEmbeddedBus({ dir, fsync: !args['no-fsync'] });
const topic = 'bench.events';
await bus.ensureTopics([{ topic, partitions }]);

let consumed = 0;
const consumer = bus.consumer({ groupId: 'bench', topics: [topic] });
if (args.consume) {
  await consumer.run(async (batch) => {
    consumed += batch.records.length;
    await consumer.commit([
      { topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 },
    ]);
  });
}

const value = Buffer.alloc(valueBytes, 'x');
const latencies: number[] = [];
let produced = 0;
const deadline = performance.now() + seconds * 1000;

async function producer(id: number): Promise<void> {
  let sequence = 0;
  while (performance.now() < deadline) {
    const records: ProduceRecord[] = [];
    for (let i = 0; i < batchSize; i++) {
      records.push({
        key: Buffer.from(`agent-${id}-${sequence % 64}`),
        value,
        headers: { type: 'process' },
      });
      sequence++;
    }
    const started = performance.now();
    await bus.produce(topic, records);
    latencies.push(performance.now() - started);
    produced += batchSize;
  }
}

const cpuStart = process.cpuUsage();
const started = performance.now();
await Promise.all(Array.from({ length: producers }, (_, id) => producer(id)));
const elapsed = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
if (args.consume) {
  const offsets = await bus.offsets(topic);
  const total = offsets.reduce((sum, p) => sum + p.high, 0);
  const until = performance.now() + 30_000;
  while (consumed < total && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const consumeElapsed = (performance.now() - started) / 1000;
await bus.close();
if (args.dir === undefined) await rm(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p: number): number =>
  Number(
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!.toFixed(2),
  );
console.log(
  JSON.stringify({
    fsync: !args['no-fsync'],
    producers,
    batch: batchSize,
    valueBytes,
    partitions,
    seconds: Number(elapsed.toFixed(2)),
    records: produced,
    recordsPerSecond: Math.round(produced / elapsed),
    mbPerSecond: Number(((produced * (valueBytes + 60)) / elapsed / 1e6).toFixed(1)),
    produceCalls: latencies.length,
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: pct(100) },
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 100),
    ...(args.consume ? { consumed, consumedPerSecond: Math.round(consumed / consumeElapsed) } : {}),
  }),
);
