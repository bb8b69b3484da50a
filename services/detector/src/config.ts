import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readBusConfig, type BusConfig } from '@mamori/bus';
import { createEnvReader, DEFAULT_DATA_DIR } from '@mamori/common';
import { Topics } from '@mamori/proto';

/** The default topic of the stateful rules' checkpoints, keyed `<group>/<events topic>/<partition>`. */
export const DETECTOR_STATE_TOPIC = 'mamori.detector.state.v1';

export interface DetectorConfig {
  bus: BusConfig;
  /** Consumer group of every detector replica. */
  groupId: string;
  /**
   * `state`: the compacted topic of the stateful rules' checkpoints; `policies`: the compacted
   * topic of runtime policies, keyed `<tenant>/<policy id>` (written by the API); `tuning`: the
   * compacted topic of rule exceptions and rule settings (written by the API); `ruleCatalog`:
   * where the detector publishes the rules it runs (read by the API).
   */
  topics: {
    events: string;
    alerts: string;
    state: string;
    policies: string;
    tuning: string;
    ruleCatalog: string;
  };
  /** Partitions of the events and alerts topics when the detector creates them. */
  eventPartitions: number;
  /** Whether Mamori's built-in rules are loaded. */
  builtinRules: boolean;
  /** Rule files (Falco or Sigma), absolute paths, loaded after the built-ins. */
  ruleFiles: readonly string[];
  /** Whether the stateful rules (the port scan) run. */
  statefulRules: boolean;
  /** Whether each tenant's runtime policies are followed and evaluated as rules. */
  policies: boolean;
  /** Whether each tenant's rule exceptions and rule settings are followed and applied. */
  tuning: boolean;
  /** Whether a change to a rule file reloads the rules while running. */
  watchRules: boolean;
  /** Most records the bus hands the detector at once. */
  maxBatchRecords: number;
  /**
   * With stateful rules: how often each partition's state is checkpointed, and its offset
   * committed with it, in ms; 0 after every batch.
   */
  checkpointIntervalMs: number;
  /** Where /healthz, /readyz and /metrics are served (HTTP). */
  ops: { host: string; port: number };
}

/**
 * The detector's configuration from environment variables, validated, all problems reported
 * at once. A listed rule file that does not exist is a problem of the configuration; what is
 * wrong inside a rule file is not (it is logged, and the other rules run).
 * @throws MamoriError Config listing every problem.
 */
export function readDetectorConfig(env: NodeJS.ProcessEnv = process.env): Readonly<DetectorConfig> {
  const read = createEnvReader(env);
  const dataDir = read.string('MAMORI_DATA_DIR', DEFAULT_DATA_DIR);
  const bus = readBusConfig(read, { dataDir, service: 'detector' });
  const ruleFiles = read.list('MAMORI_DETECTOR_RULES', []).map((file) => resolve(file));
  for (const file of ruleFiles) {
    try {
      if (!statSync(file).isFile()) {
        read.problem(`MAMORI_DETECTOR_RULES: ${file} is not a file`);
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      read.problem(`MAMORI_DETECTOR_RULES: ${file} cannot be read (${String(code ?? err)})`);
    }
  }
  const config: DetectorConfig = {
    bus,
    groupId: read.string('MAMORI_DETECTOR_GROUP', 'mamori-detector'),
    topics: {
      events: read.string('MAMORI_TOPIC_EVENTS', Topics.events),
      alerts: read.string('MAMORI_TOPIC_ALERTS', Topics.alerts),
      state: read.string('MAMORI_TOPIC_DETECTOR_STATE', DETECTOR_STATE_TOPIC),
      policies: read.string('MAMORI_TOPIC_POLICIES', Topics.policies),
      tuning: read.string('MAMORI_TOPIC_RULE_TUNING', Topics.ruleTuning),
      ruleCatalog: read.string('MAMORI_TOPIC_RULE_CATALOG', Topics.ruleCatalog),
    },
    // The same default as ingest and the store: whichever starts first creates the topics.
    eventPartitions: read.int('MAMORI_EVENTS_PARTITIONS', bus.kind === 'kafka' ? 12 : 4, {
      min: 1,
      max: 10_000,
    }),
    builtinRules: read.bool('MAMORI_DETECTOR_BUILTIN', true),
    ruleFiles: Object.freeze([...new Set(ruleFiles)]),
    statefulRules: read.bool('MAMORI_DETECTOR_STATEFUL', true),
    policies: read.bool('MAMORI_DETECTOR_POLICIES', true),
    tuning: read.bool('MAMORI_DETECTOR_TUNING', true),
    watchRules: read.bool('MAMORI_DETECTOR_WATCH', true),
    // 2,000 records: at a few µs each (decode and evaluation) a batch holds the thread for
    // about 10 ms, short enough for ingest and the API sharing it in `mamori start`, long
    // enough that the commit after each batch costs little.
    maxBatchRecords: read.int('MAMORI_DETECTOR_BATCH_EVENTS', 2000, { min: 1, max: 100_000 }),
    // 1 s: a checkpoint holds every window of a partition (megabytes with thousands of pairs),
    // too much to write after every batch; a crash re-evaluates at most about this much.
    checkpointIntervalMs: read.int('MAMORI_DETECTOR_CHECKPOINT_MS', 1000, {
      min: 0,
      max: 600_000,
    }),
    ops: {
      // Loopback like the other services: probes and scrapes come from the same host or pod.
      host: read.string('MAMORI_DETECTOR_OPS_HOST', '127.0.0.1'),
      // 9466: after ingest's 9464 and the store's 9465, so all run on one host by default.
      port: read.int('MAMORI_DETECTOR_OPS_PORT', 9466, { min: 0, max: 65_535 }),
    },
  };
  if (!config.builtinRules && config.ruleFiles.length === 0) {
    read.problem(
      'MAMORI_DETECTOR_RULES: no rules to run (MAMORI_DETECTOR_BUILTIN is off and no files are listed)',
    );
  }
  read.done();
  return Object.freeze(config);
}
