import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createEmbeddedBus,
  createKafkaBus,
  type Bus,
  type Consumer,
  type ProduceRecord,
  type RecordHeaders,
} from '@mamori/bus';
import { EventHeaders } from '@mamori/proto';
import { kafkaForBenchmark } from '../support/kafka.js';
import { summarize } from '../support/stats.js';
import { deleteKafkaTopic } from './kafka-cleanup.js';

const USAGE = `npm run bench:bus -- --bus embedded|kafka [options]

Measures the bus alone, in this process: N concurrent callers each loop produce(batch) on one
bus for S seconds, optionally with a consumer group reading along, and prints one JSON object
on its last line. For --bus kafka without --brokers it starts a local broker.

  --bus embedded|kafka   bus to measure (default embedded)
  --seconds S            duration of the produce phase (default 5)
  --producers N          concurrent produce callers (default 8)
  --batch B              records per produce call (default 200)
  --value-bytes V        bytes per record value (default 400)
  --partitions P         partitions of the benchmark topic (default 8)
  --consume              also read the topic with one group member, committing every batch
  --no-fsync             embedded: acknowledge without fsync (UNSAFE, shows what fsync costs)
  --dir DIR              embedded: keep the log in a temporary directory under DIR, to measure
                         that file system (default under the OS temporary directory)
  --brokers LIST         kafka: use these brokers (or MAMORI_KAFKA_BROKERS) instead of starting one
  --max-request-bytes N  kafka: maxProduceRequestBytes of the bus (default the bus's, 1000000)
`;

/** Keys per producer: like ingest, records are keyed by agent, and an agent has few keys. */
const KEYS_PER_PRODUCER = 64;
/** How long to wait for --consume to read what was produced, in ms. */
const CONSUME_DRAIN_TIMEOUT_MS = 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bus: { type: 'string', default: 'embedded' },
      seconds: { type: 'string', default: '5' },
      producers: { type: 'string', default: '8' },
      batch: { type: 'string', default: '200' },
      'value-bytes': { type: 'string', default: '400' },
      partitions: { type: 'string', default: '8' },
      consume: { type: 'boolean', default: false },
      'no-fsync': { type: 'boolean', default: false },
      dir: { type: 'string' },
      brokers: { type: 'string' },
      'max-request-bytes': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const kind = values.bus;
  if (kind !== 'embedded' && kind !== 'kafka')
    throw new Error(`--bus: expected embedded or kafka, got ${kind}`);
  const seconds = integer('seconds', values.seconds, 1);
  const producers = integer('producers', values.producers, 1);
  const batch = integer('batch', values.batch, 1);
  const valueBytes = integer('value-bytes', values['value-bytes'], 0);
  const partitions = integer('partitions', values.partitions, 1);
  const fsync = !values['no-fsync'];
  const maxProduceRequestBytes =
    values['max-request-bytes'] === undefined
      ? undefined
      : integer('max-request-bytes', values['max-request-bytes'], 1);
  if (kind === 'kafka') {
    if (!fsync)
      throw new Error(
        '--no-fsync: only for --bus embedded (Kafka durability is the broker setting)',
      );
    if (values.dir !== undefined) throw new Error('--dir: only for --bus embedded');
  } else {
    if (values.brokers !== undefined) throw new Error('--brokers: only for --bus kafka');
    if (maxProduceRequestBytes !== undefined)
      throw new Error('--max-request-bytes: only for --bus kafka');
  }

  const cleanups: (() => Promise<void> | void)[] = [];
  let report: Record<string, unknown>;
  try {
    const topic = `bench.bus.${randomBytes(4).toString('hex')}`;
    const groupId = `bench-bus-${randomBytes(4).toString('hex')}`;
    let bus: Bus;
    let brokers: string[] | undefined;
    if (kind === 'embedded') {
      const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'mamori-bench-bus-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      bus = await createEmbeddedBus({ dir, fsync });
    } else {
      const kafka = await kafkaForBenchmark(values.brokers);
      cleanups.push(() => kafka.stop());
      brokers = kafka.brokers;
      const created = brokers;
      // Registered before the topic exists: deleting a topic that is not there is harmless.
      cleanups.push(() =>
        deleteKafkaTopic({
          brokers: created,
          topic,
          ...(values.consume ? { groupId } : {}),
        }).catch((err: unknown) => {
          process.stderr.write(
            `bench:bus: ${err instanceof Error ? err.message : String(err)} on ${created.join(',')}\n`,
          );
        }),
      );
      bus = createKafkaBus({
        brokers,
        clientId: 'mamori-bench',
        ...(maxProduceRequestBytes === undefined ? {} : { maxProduceRequestBytes }),
      });
    }
    cleanups.push(() => bus.close());
    await bus.ensureTopics([{ topic, partitions }]);

    const value = randomBytes(valueBytes);
    // One headers object for all records, as ingest shares one per event kind and call.
    const headers: RecordHeaders = { [EventHeaders.kind]: 'process_exec' };
    const headerBytes = Object.entries(headers).reduce(
      (n, [name, v]) => n + Buffer.byteLength(name) + Buffer.byteLength(v),
      0,
    );
    const keys = Array.from({ length: producers }, (_, p) =>
      Array.from({ length: KEYS_PER_PRODUCER }, (_, k) => Buffer.from(`agent-${p}-${k}`)),
    );

    // Warm-up, not measured: connects the Kafka producer and fills its partition cache; opens
    // the embedded log's partition files.
    await bus.produce(
      topic,
      keys[0]!.slice(0, batch).map((key) => ({ key, value, headers })),
    );
    const baseline = new Map((await bus.offsets(topic)).map((p) => [p.partition, p.high]));

    const reader = values.consume ? await startReader(bus, topic, groupId, baseline) : undefined;

    let stopAt = 0;
    // Ctrl-C ends the produce phase early, so that the run still cleans up and reports.
    const interrupt = (): void => {
      stopAt = 0;
      process.stderr.write('bench:bus: interrupted, stopping\n');
    };
    const latencies: number[] = [];
    let records = 0;
    let bytes = 0;
    let errors = 0;
    const producer = async (p: number): Promise<void> => {
      const own = keys[p]!;
      let sequence = 0;
      while (performance.now() < stopAt) {
        const batchRecords: ProduceRecord[] = new Array<ProduceRecord>(batch);
        let batchBytes = 0;
        for (let i = 0; i < batch; i++) {
          const key = own[sequence++ % KEYS_PER_PRODUCER]!;
          batchRecords[i] = { key, value, headers };
          batchBytes += key.length + valueBytes + headerBytes;
        }
        const sent = performance.now();
        try {
          await bus.produce(topic, batchRecords);
        } catch (err) {
          if (errors++ === 0) {
            process.stderr.write(
              `bench:bus: produce failed (counted in errors, further failures not shown): ${
                err instanceof Error ? err.message : String(err)
              }\n`,
            );
          }
          continue;
        }
        latencies.push(performance.now() - sent);
        records += batch;
        bytes += batchBytes;
      }
    };

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    stopAt = started + seconds * 1000;
    process.once('SIGINT', interrupt);
    await Promise.all(Array.from({ length: producers }, (_, p) => producer(p)));
    process.off('SIGINT', interrupt);
    const produced = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const elapsed = (produced - started) / 1000;

    let consumeReport: Record<string, unknown> = {};
    if (reader) {
      const ends = await bus.offsets(topic);
      const caughtUp = await reader.until(ends, CONSUME_DRAIN_TIMEOUT_MS);
      const drained = performance.now();
      consumeReport = {
        consumed: reader.consumed(),
        consumedPerSecond: Math.round(reader.consumed() / ((drained - started) / 1000)),
        consumeDrainSeconds: round((drained - produced) / 1000, 2),
        consumeCaughtUp: caughtUp,
      };
    }

    report = {
      benchmark: 'bus',
      bus: kind,
      fsync: kind === 'embedded' ? fsync : undefined,
      brokers,
      maxProduceRequestBytes,
      producers,
      batch,
      valueBytes,
      partitions,
      seconds,
      elapsedSeconds: round(elapsed, 2),
      records,
      produceCalls: latencies.length,
      errors,
      recordsPerSecond: Math.round(records / elapsed),
      mbPerSecond: round(bytes / elapsed / 1e6, 1),
      produceLatencyMs: summarize(latencies),
      ...consumeReport,
      cpuCores: round((cpu.user + cpu.system) / 1000 / (elapsed * 1000), 2),
      node: process.version,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  // After the cleanups, so that nothing they print follows the report.
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

interface Reader {
  /** Records past the warm-up handed to the handler and committed. */
  consumed(): number;
  /** Waits until every partition was read up to `ends`; false after `timeoutMs`. */
  until(ends: { partition: number; high: number }[], timeoutMs: number): Promise<boolean>;
}

/** Starts one group member that counts what it reads and commits every batch, as a service does. */
async function startReader(
  bus: Bus,
  topic: string,
  groupId: string,
  baseline: ReadonlyMap<number, number>,
): Promise<Reader> {
  let consumed = 0;
  const next = new Map<number, number>();
  const consumer: Consumer = bus.consumer({ groupId, topics: [topic], startFrom: 'earliest' });
  await consumer.run(async (batch) => {
    const last = batch.records.at(-1);
    if (!last) return;
    await consumer.commit([{ topic, partition: batch.partition, offset: last.offset + 1 }]);
    // Counted once committed: a batch whose commit failed comes again.
    const from = baseline.get(batch.partition) ?? 0;
    for (const record of batch.records) if (record.offset >= from) consumed++;
    next.set(batch.partition, last.offset + 1);
  });
  return {
    consumed: () => consumed,
    async until(ends, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const done = (): boolean => ends.every((e) => e.high <= (next.get(e.partition) ?? 0));
      while (!done()) {
        if (performance.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return true;
    },
  };
}

function integer(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name}: expected an integer ≥ ${min}, got ${value}`);
  return n;
}

function round(n: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(n * scale) / scale;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:bus failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
