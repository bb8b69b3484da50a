import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { Bus, PartitionOffsets } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { buildApp, readDetectorConfig } from '@mamori/detector';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';

/**
 * Runs the detector's app (`buildApp` from `@mamori/detector`, a silent logger) over the events
 * already on a bus, as a consumer group, until the group has committed every record: what
 * bench:detector and bench:e2e's replay measure.
 */

/** How often the run asks the bus whether everything is committed, in ms. */
const POLL_MS = 10;

export interface DetectorRunOptions {
  /** The bus the records are on (it stays open). */
  bus: Bus;
  /**
   * The detector's environment as `readDetectorConfig` reads it: its group
   * (`MAMORI_DETECTOR_GROUP`, one that has committed nothing yet) and its topics.
   */
  env: Record<string, string>;
  /** Writes a CPU profile of the run (start to the last commit) to this directory. */
  profileDir?: string;
  /**
   * Gives up after this long, in ms, and reports `complete: false` (a detector that never
   * commits, e.g. one whose alerts the bus refuses, would otherwise be waited for forever).
   * @default no limit
   */
  timeoutMs?: number;
}

export interface DetectorRunResult {
  /** Records of the events topic when the run started: what it waited for. */
  events: number;
  /** Decoded and evaluated; not decoded (a kind no rule runs on, by its header). */
  evaluated: number;
  skipped: number;
  /** Whether the group had committed every record once stopped (false: `timeoutMs` passed first). */
  complete: boolean;
  /** Alerts produced (and acknowledged by the bus). */
  alerts: number;
  /** Checkpoints of stateful rules written, and their bytes. */
  checkpoints: number;
  checkpointBytes: number;
  /** Keys the stateful rules held at the end, over every partition. */
  statefulKeys: number;
  /** `start()` until stopped, the last commit made, in ms. */
  ms: number;
  /** Loading the rules, creating topics and joining, in ms (part of `ms`). */
  startMs: number;
  /** CPU of this process (every thread) over `ms`, in µs. */
  cpuMicros: number;
  profile?: ProfileSummary;
}

function post(session: Session, method: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

/** Whether the group's committed offsets reach `ends` on every partition that has records. */
async function committedAll(
  bus: Bus,
  groupId: string,
  topic: string,
  ends: readonly PartitionOffsets[],
): Promise<boolean> {
  const committed = new Map(
    (await bus.committed(groupId, topic)).map(({ partition, offset }) => [partition, offset]),
  );
  return ends.every(
    ({ partition, low, high }) => high <= low || (committed.get(partition) ?? -1) >= high,
  );
}

async function statefulKeysOf(registry: {
  getSingleMetric(name: string): { get(): Promise<{ values: { value: number }[] }> } | undefined;
}): Promise<number> {
  const gauge = registry.getSingleMetric('mamori_detector_stateful_keys');
  return gauge === undefined ? 0 : counterTotal(gauge);
}

async function counterTotal(counter: {
  get(): Promise<{ values: { value: number }[] }>;
}): Promise<number> {
  return (await counter.get()).values.reduce((sum, { value }) => sum + value, 0);
}

/**
 * Runs the detector over its events topic until it has handled every record the topic held when
 * the run started (or its group committed them all), then stops it: stopping checkpoints and
 * commits what is left, and is part of the time measured.
 * @throws MamoriError Config when `env` is not a valid detector configuration; whatever the
 *   bus throws (an events topic that does not exist: BusTopic).
 */
export async function runDetectorUntilCommitted(
  options: DetectorRunOptions,
): Promise<DetectorRunResult> {
  const { bus } = options;
  const config = readDetectorConfig(options.env);
  const ends = await bus.offsets(config.topics.events);
  const events = ends.reduce((sum, { low, high }) => sum + high - low, 0);
  const app = buildApp({ config, bus, logger: createSilentLogger(), processMetrics: false });

  let session: Session | undefined;
  if (options.profileDir !== undefined) {
    session = new Session();
    session.connect();
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.start');
  }
  let stopped = false;
  try {
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    await app.start();
    const startMs = performance.now() - began;
    const deadline = began + (options.timeoutMs ?? Infinity);
    const caughtUp = (): Promise<boolean> =>
      committedAll(bus, config.groupId, config.topics.events, ends);
    // Every record handled (evaluated, skipped or dead-lettered): the rest is the commits of
    // the last checkpoint, which stopping writes at once instead of at the next interval.
    const handled = async (): Promise<boolean> =>
      (await counterTotal(app.metrics.eventsEvaluated)) +
        (await counterTotal(app.metrics.eventsSkipped)) +
        (await counterTotal(app.metrics.deadLetters)) >=
      events;
    let complete = await caughtUp();
    while (!complete && performance.now() < deadline && !(await handled())) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      complete = await caughtUp();
    }
    // Before stop: the gauge reads the partitions' states, which stop leaves as they are.
    const keys = await statefulKeysOf(app.metrics.registry);
    stopped = true;
    await app.stop();
    const ms = performance.now() - began;
    const cpu = process.cpuUsage(cpuBefore);
    complete = await caughtUp();
    let profile: ProfileSummary | undefined;
    if (session !== undefined && options.profileDir !== undefined) {
      const { profile: data } = (await post(session, 'Profiler.stop')) as { profile: unknown };
      session.disconnect();
      session = undefined;
      const file = join(options.profileDir, `detector-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(data));
      profile = summarizeProfile(file, 20);
    }
    return {
      events,
      complete,
      evaluated: await counterTotal(app.metrics.eventsEvaluated),
      skipped: await counterTotal(app.metrics.eventsSkipped),
      alerts: await counterTotal(app.metrics.alertsProduced),
      checkpoints: await counterTotal(app.metrics.checkpoints),
      checkpointBytes: await counterTotal(app.metrics.checkpointBytes),
      statefulKeys: keys,
      ms,
      startMs,
      cpuMicros: cpu.user + cpu.system,
      ...(profile ? { profile } : {}),
    };
  } finally {
    session?.disconnect();
    if (!stopped) await app.stop();
  }
}
