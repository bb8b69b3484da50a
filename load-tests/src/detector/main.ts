/**
 * The detector alone on the embedded bus: fills a fresh log with realistic event records, then
 * runs the detector's app (`buildApp`) over them as a consumer group until every record is
 * committed. Prints one JSON object on its last line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmbeddedBus, type EmbeddedBus, type ProduceRecord } from '@mamori/bus';
import { positive, runMain } from '../support/args.js';
import { runDetectorUntilCommitted } from '../support/detector-run.js';
import { eventRecords } from './events.js';

const USAGE = `npm run bench:detector -- [options]

Fills a fresh embedded log with event records as ingest writes them, then runs the detector
(buildApp from @mamori/detector, built-in rules) over them until all are committed, in this
one process, and prints events per second, alerts and CPU.

  --events N        records in the log (default 500000)
  --partitions N    partitions of the events topic (default 4, the embedded default)
  --batch N         MAMORI_DETECTOR_BATCH_EVENTS (default 2000, the detector's default)
  --attack-every N  one record in N fires a built-in rule; 0 for none (default 100)
  --peers N         network connections go to N distinct addresses, 5 ports each, so that the
                    port scan rule holds a window per pair (default 0: the routine templates'
                    few destinations)
  --checkpoint-ms N MAMORI_DETECTOR_CHECKPOINT_MS (default 1000, the detector's default; 0
                    checkpoints and commits after every batch)
  --no-fsync        the log acknowledges produces and commits without fsync (UNSAFE)
  --dir DIR         where the temporary log goes (default the OS temporary directory)
  --profile DIR     writes a CPU profile of the detector's run to DIR and summarizes it
`;

const EVENTS_TOPIC = 'bench.events';
const ALERTS_TOPIC = 'bench.alerts';
// Records per produce call while filling: about 3 MB, well under the log's 16 MiB limit.
const FILL_CHUNK = 5000;

interface Options {
  events: number;
  partitions: number;
  batch: number;
  attackEvery: number;
  peers: number;
  checkpointMs: number;
  fsync: boolean;
  dir: string | undefined;
  profile: string | undefined;
}

function readOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '500000' },
      partitions: { type: 'string', default: '4' },
      batch: { type: 'string', default: '2000' },
      'attack-every': { type: 'string', default: '100' },
      peers: { type: 'string', default: '0' },
      'checkpoint-ms': { type: 'string', default: '1000' },
      'no-fsync': { type: 'boolean', default: false },
      dir: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const attackEvery = Number(values['attack-every']);
  if (!Number.isInteger(attackEvery) || attackEvery < 0) {
    throw new Error(`--attack-every: expected an integer ≥ 0, got ${values['attack-every']}`);
  }
  const checkpointMs = Number(values['checkpoint-ms']);
  if (!Number.isInteger(checkpointMs) || checkpointMs < 0) {
    throw new Error(`--checkpoint-ms: expected an integer ≥ 0, got ${values['checkpoint-ms']}`);
  }
  const peers = Number(values.peers);
  if (!Number.isInteger(peers) || peers < 0) {
    throw new Error(`--peers: expected an integer ≥ 0, got ${values.peers}`);
  }
  return {
    peers,
    checkpointMs,
    events: positive('events', values.events),
    partitions: positive('partitions', values.partitions),
    batch: positive('batch', values.batch),
    attackEvery,
    fsync: !values['no-fsync'],
    dir: values.dir,
    profile: values.profile,
  };
}

async function fill(bus: EmbeddedBus, options: Options): Promise<number> {
  let chunk: ProduceRecord[] = [];
  let bytes = 0;
  for (const record of eventRecords(options.events, options.attackEvery, options.peers)) {
    bytes += record.value.length;
    chunk.push(record);
    if (chunk.length === FILL_CHUNK) {
      await bus.produce(EVENTS_TOPIC, chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await bus.produce(EVENTS_TOPIC, chunk);
  return bytes;
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options === undefined) return;
  const dir = mkdtempSync(join(options.dir ?? tmpdir(), 'mamori-bench-detector-'));
  const bus = await createEmbeddedBus({ dir, fsync: options.fsync });
  try {
    await bus.ensureTopics([
      { topic: EVENTS_TOPIC, partitions: options.partitions },
      { topic: ALERTS_TOPIC, partitions: options.partitions },
    ]);
    const fillStart = performance.now();
    const bytes = await fill(bus, options);
    const fillMs = performance.now() - fillStart;

    const run = await runDetectorUntilCommitted({
      bus,
      env: {
        MAMORI_BUS: 'embedded',
        MAMORI_BUS_DIR: dir,
        MAMORI_BUS_FSYNC: String(options.fsync),
        MAMORI_DETECTOR_GROUP: 'bench-detector',
        MAMORI_TOPIC_EVENTS: EVENTS_TOPIC,
        MAMORI_TOPIC_ALERTS: ALERTS_TOPIC,
        MAMORI_EVENTS_PARTITIONS: String(options.partitions),
        MAMORI_DETECTOR_BATCH_EVENTS: String(options.batch),
        MAMORI_DETECTOR_CHECKPOINT_MS: String(options.checkpointMs),
        MAMORI_DETECTOR_WATCH: 'false',
      },
      ...(options.profile !== undefined ? { profileDir: options.profile } : {}),
    });
    const { events: total, alerts, ms, cpuMicros } = run;
    const seconds = ms / 1000;
    const report = {
      benchmark: 'detector',
      eventsPerSecond: Math.round(total / seconds),
      events: total,
      evaluated: run.evaluated,
      skipped: run.skipped,
      seconds: Math.round(seconds * 1000) / 1000,
      startMs: Math.round(run.startMs),
      alerts,
      alertsPerSecond: Math.round(alerts / seconds),
      statefulKeys: run.statefulKeys,
      checkpoints: run.checkpoints,
      checkpointBytes: run.checkpointBytes,
      cpuCores: Math.round((cpuMicros / 1000 / ms) * 100) / 100,
      cpuMicrosPerEvent: Math.round((cpuMicros / total) * 100) / 100,
      partitions: options.partitions,
      batch: options.batch,
      attackEvery: options.attackEvery,
      peers: options.peers,
      checkpointMs: options.checkpointMs,
      fsync: options.fsync,
      meanEventBytes: Math.round(bytes / options.events),
      fillMs: Math.round(fillMs),
      ...(run.profile ? { profile: run.profile } : {}),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain('bench:detector', main);
