/**
 * The detector alone on the embedded bus: fills a fresh log with realistic event records, then
 * runs the detector's app (`buildApp`) over them as a consumer group until every record is
 * committed. Prints one JSON object on its last line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmbeddedBus, type EmbeddedBus, type ProduceRecord } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { buildApp, readDetectorConfig } from '@mamori/detector';
import { positive, runMain } from '../support/args.js';
import { summarizeProfile } from '../support/cpu-profile.js';
import { eventRecords } from './events.js';

const USAGE = `npm run bench:detector -- [options]

Fills a fresh embedded log with event records as ingest writes them, then runs the detector
(buildApp from @mamori/detector, built-in rules) over them until all are committed, in this
one process, and prints events per second, alerts and CPU.

  --events N        records in the log (default 500000)
  --partitions N    partitions of the events topic (default 4, the embedded default)
  --batch N         MAMORI_DETECTOR_BATCH_EVENTS (default 2000, the detector's default)
  --attack-every N  one record in N fires a built-in rule; 0 for none (default 100)
  --no-fsync        the log acknowledges produces and commits without fsync (UNSAFE)
  --dir DIR         where the temporary log goes (default the OS temporary directory)
  --profile DIR     writes a CPU profile of the detector's run to DIR and summarizes it
`;

const EVENTS_TOPIC = 'bench.events';
const ALERTS_TOPIC = 'bench.alerts';
// Records per produce call while filling: about 3 MB, well under the log's 16 MiB limit.
const FILL_CHUNK = 5000;
// How often the benchmark asks the log whether everything is committed, in ms.
const POLL_MS = 10;

interface Options {
  events: number;
  partitions: number;
  batch: number;
  attackEvery: number;
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
  return {
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
  for (const record of eventRecords(options.events, options.attackEvery)) {
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

async function committedAll(bus: EmbeddedBus, groupId: string, total: number): Promise<boolean> {
  const committed = await bus.committed(groupId, EVENTS_TOPIC);
  return committed.reduce((sum, { offset }) => sum + offset, 0) >= total;
}

function post(session: Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, (err, result) => (err ? reject(err) : resolve(result))),
  );
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
    const total = (await bus.offsets(EVENTS_TOPIC)).reduce((sum, p) => sum + p.high - p.low, 0);

    const groupId = 'bench-detector';
    const config = readDetectorConfig({
      MAMORI_BUS: 'embedded',
      MAMORI_BUS_DIR: dir,
      MAMORI_BUS_FSYNC: String(options.fsync),
      MAMORI_DETECTOR_GROUP: groupId,
      MAMORI_TOPIC_EVENTS: EVENTS_TOPIC,
      MAMORI_TOPIC_ALERTS: ALERTS_TOPIC,
      MAMORI_EVENTS_PARTITIONS: String(options.partitions),
      MAMORI_DETECTOR_BATCH_EVENTS: String(options.batch),
      MAMORI_DETECTOR_WATCH: 'false',
    });
    const app = buildApp({ config, bus, logger: createSilentLogger(), processMetrics: false });

    let session: Session | undefined;
    if (options.profile !== undefined) {
      session = new Session();
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.start');
    }
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    await app.start();
    const startMs = performance.now() - began;
    while (!(await committedAll(bus, groupId, total))) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const ms = performance.now() - began;
    const cpu = process.cpuUsage(cpuBefore);
    let profile: ReturnType<typeof summarizeProfile> | undefined;
    if (session !== undefined && options.profile !== undefined) {
      const { profile: data } = (await post(session, 'Profiler.stop')) as { profile: unknown };
      session.disconnect();
      const file = join(options.profile, `detector-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(data));
      profile = summarizeProfile(file, 20);
    }
    await app.stop();

    const alerts = (await bus.offsets(ALERTS_TOPIC)).reduce((sum, p) => sum + p.high - p.low, 0);
    const evaluated = (await app.metrics.eventsEvaluated.get()).values[0]?.value ?? 0;
    const skipped = (await app.metrics.eventsSkipped.get()).values[0]?.value ?? 0;
    const seconds = ms / 1000;
    const report = {
      benchmark: 'detector',
      eventsPerSecond: Math.round(total / seconds),
      events: total,
      evaluated,
      skipped,
      seconds: Math.round(seconds * 1000) / 1000,
      startMs: Math.round(startMs),
      alerts,
      alertsPerSecond: Math.round(alerts / seconds),
      cpuCores: Math.round(((cpu.user + cpu.system) / 1000 / ms) * 100) / 100,
      cpuMicrosPerEvent: Math.round(((cpu.user + cpu.system) / total) * 100) / 100,
      partitions: options.partitions,
      batch: options.batch,
      attackEvery: options.attackEvery,
      fsync: options.fsync,
      meanEventBytes: Math.round(bytes / options.events),
      fillMs: Math.round(fillMs),
      ...(profile ? { profile } : {}),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain('bench:detector', main);
