import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface DetectorMetrics {
  readonly registry: Registry;
  readonly eventsEvaluated: Counter;
  /** Events not decoded because no rule runs on their kind (from the record's kind header). */
  readonly eventsSkipped: Counter;
  readonly alertsProduced: Counter<'rule' | 'severity'>;
  /** Matches not raised as alerts: the tenant disabled the rule, or an exception held. */
  readonly alertsSuppressed: Counter<'by'>;
  readonly deadLetters: Counter;
  readonly ruleReloads: Counter<'result'>;
  readonly batchEvaluation: Histogram;
  readonly produceFailures: Counter;
  /** Keys dropped by a stateful rule because its cap of keys per partition was reached. */
  readonly statefulEvictions: Counter<'rule'>;
  /** Partition states set up: from a checkpoint, or empty (and why). */
  readonly stateRestores: Counter<'result'>;
  /** Checkpoints that the bus did not acknowledge (the batch's commit was left out). */
  readonly checkpointFailures: Counter;
  /** Checkpoints of stateful rules written, and their bytes. */
  readonly checkpoints: Counter;
  readonly checkpointBytes: Counter;
}

export interface DetectorMetricsOptions {
  /**
   * Collects process metrics (CPU, memory, event loop) too; off when another service of the
   * same process already does. @default true
   */
  defaultMetrics?: boolean;
  /** Rules loaded now, read at scrape time. */
  rules(): number;
  /** Keys held by each stateful rule now (all partitions), read at scrape time. */
  statefulKeys?(): ReadonlyMap<string, number>;
  /** Rule exceptions and disabled rules in force, over every tenant, read at scrape time. */
  tuning?(): { exceptions: number; disabled: number };
}

/** Prometheus metrics of one detector instance, in a registry of its own. */
export function createDetectorMetrics(options: DetectorMetricsOptions): DetectorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'mamori_detector_' });
  }
  new Gauge({
    name: 'mamori_detector_rules_loaded',
    help: 'Rules the detector evaluates events against now.',
    registers: [registry],
    collect() {
      this.set(options.rules());
    },
  });
  new Gauge({
    name: 'mamori_detector_tuning_in_force',
    help: "Tenants' rule exceptions and rule settings that disable a rule, in force now, over every tenant.",
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const tuning = options.tuning?.() ?? { exceptions: 0, disabled: 0 };
      this.set({ kind: 'exception' }, tuning.exceptions);
      this.set({ kind: 'disabled_rule' }, tuning.disabled);
    },
  });
  new Gauge({
    name: 'mamori_detector_stateful_keys',
    help: 'Keys (e.g. source and destination pairs) held by each stateful rule, over the partitions this detector holds.',
    labelNames: ['rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [rule, keys] of options.statefulKeys?.() ?? []) this.set({ rule }, keys);
    },
  });
  return {
    registry,
    eventsEvaluated: new Counter({
      name: 'mamori_detector_events_evaluated_total',
      help: 'Events decoded and evaluated against the rules.',
      registers: [registry],
    }),
    eventsSkipped: new Counter({
      name: 'mamori_detector_events_skipped_total',
      help: 'Events not decoded because no loaded rule runs on their kind.',
      registers: [registry],
    }),
    alertsProduced: new Counter({
      name: 'mamori_detector_alerts_produced_total',
      help: 'Alerts produced to the alerts topic (acknowledged by the bus), by rule id and severity.',
      labelNames: ['rule', 'severity'],
      registers: [registry],
    }),
    alertsSuppressed: new Counter({
      name: 'mamori_detector_alerts_suppressed_total',
      help: "Rule matches not raised as alerts because of the tenant's tuning, by what: setting (the rule is disabled) or exception.",
      labelNames: ['by'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'mamori_detector_dead_letters_total',
      help: 'Event records that did not decode (or lacked tenant, agent or id) and went to dead letters.',
      registers: [registry],
    }),
    ruleReloads: new Counter({
      name: 'mamori_detector_rule_reloads_total',
      help: 'Rule reloads, by result: applied, or refused (the running rules stayed).',
      labelNames: ['result'],
      registers: [registry],
    }),
    batchEvaluation: new Histogram({
      name: 'mamori_detector_batch_evaluation_seconds',
      help: 'Time to decode and evaluate one bus batch of events against the rules, in seconds.',
      // 0.1 ms to 1 s: a batch of 2,000 events takes a few ms; a slow rule shows as a long tail.
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    produceFailures: new Counter({
      name: 'mamori_detector_produce_failures_total',
      help: 'Batches whose alerts the bus did not acknowledge (the batch is delivered again).',
      registers: [registry],
    }),
    statefulEvictions: new Counter({
      name: 'mamori_detector_stateful_evictions_total',
      help: 'Keys a stateful rule dropped because it held its most keys per partition (their windows are lost).',
      labelNames: ['rule'],
      registers: [registry],
    }),
    stateRestores: new Counter({
      name: 'mamori_detector_state_restores_total',
      help: 'Partition states of the stateful rules set up, by result: checkpoint, empty (no checkpoint), mismatch (a checkpoint of another offset), invalid (unreadable).',
      labelNames: ['result'],
      registers: [registry],
    }),
    checkpointFailures: new Counter({
      name: 'mamori_detector_checkpoint_failures_total',
      help: 'Checkpoints of stateful rules the bus did not acknowledge; the batch was not committed.',
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'mamori_detector_checkpoints_total',
      help: 'Checkpoints of stateful rules written (one per partition every MAMORI_DETECTOR_CHECKPOINT_MS with progress).',
      registers: [registry],
    }),
    checkpointBytes: new Counter({
      name: 'mamori_detector_checkpoint_bytes_total',
      help: 'Bytes of the checkpoints of stateful rules written.',
      registers: [registry],
    }),
  };
}
