import { performance } from 'node:perf_hooks';
import {
  createDeadLetterDecoder,
  type Bus,
  type ConsumedBatch,
  type Consumer,
  type ProduceRecord,
} from '@mamori/bus';
import { ErrorCode, MamoriError, type Logger, type Readiness } from '@mamori/common';
import { decodeEvent as decodeEventBytes, EventHeaders, type Event__Output } from '@mamori/proto';
import {
  createRuleEngine,
  type CompiledRule,
  type EventKind,
  type RuleEngine,
} from '@mamori/rules';
import type { DetectorConfig } from './config.js';
import { createAlertCodec, toAlert } from './detection/alert.js';
import { createDetectorMetrics, type DetectorMetrics } from './metrics.js';
import {
  createRuleLoader,
  reloadVerdict,
  type LoadedRules,
  type RuleLoader,
} from './rules/load.js';
import { watchRuleFiles, type RuleWatcher } from './rules/watch.js';

export interface DetectorDeps {
  config: Readonly<DetectorConfig>;
  bus: Bus;
  logger: Logger;
  /**
   * Whether the detector's registry collects process metrics; off when another service of the
   * same process already does (`mamori start`). @default true
   */
  processMetrics?: boolean;
  /** Where the rules come from. @default the built-ins and files of `config` */
  loader?: RuleLoader;
  /**
   * Quiet time after the last change to a rule file before the rules are reloaded, in ms.
   * @default 200 (an editor's save is a few events within milliseconds)
   */
  watchDebounceMs?: number;
}

/** What a reload did. */
export interface ReloadResult {
  /** Whether the new rules replaced the running ones. */
  applied: boolean;
  /** Rules running after the reload. */
  rules: number;
  /** Why the running rules stayed, when they did. */
  reason?: string;
}

export interface DetectorApp {
  /** Loads the rules, creates the topics if needed, joins the consumer group and evaluates. */
  start(): Promise<void>;
  /**
   * Stops taking batches, lets the batch being handled produce its alerts and commit (for at
   * most `graceMs`), then leaves the group. Batches not handled are delivered again later.
   */
  stop(graceMs?: number): Promise<void>;
  /**
   * Reads the rule files again and swaps the rules at once, unless the new files are broken
   * (see `reloadVerdict`): then the running rules stay. Reloads run one at a time.
   */
  reload(): Promise<ReloadResult>;
  /** Ready while consuming, unless the bus refused the alerts of the last batch. */
  readiness(): Readiness;
  /** Prometheus metrics (prefix `mamori_detector_`). */
  readonly metrics: DetectorMetrics;
  /** Rules running now. */
  rules(): readonly CompiledRule[];
}

/** A record whose kind no rule runs on: not decoded, nothing to evaluate. */
const SKIPPED = null;
/** A record that decoded and matched no rule: nothing of it is kept. */
const NO_MATCH = false;

/** An event that matched, with the rules it matched. */
interface Matched {
  event: Event__Output;
  rules: readonly CompiledRule[];
}

function missing(field: 'tenant_id' | 'agent_id' | 'id'): MamoriError {
  return new MamoriError(ErrorCode.BusDecode, `the event has no ${field}`, {
    context: { field },
  });
}

/** Builds the detector without loading rules, connecting or consuming anything. */
export function buildApp(deps: DetectorDeps): DetectorApp {
  const { config, bus, logger } = deps;
  const loader =
    deps.loader ?? createRuleLoader({ builtin: config.builtinRules, files: config.ruleFiles });
  const alertCodec = createAlertCodec();
  const failingRules = new Set<string>();
  let loaded: LoadedRules = { rules: [], skipped: [], problems: [], unreadable: [] };
  const engine: RuleEngine = createRuleEngine([], {
    onRuleError(rule, err) {
      // Once per rule: a rule that throws on one event usually throws on many.
      if (failingRules.has(rule.id)) return;
      failingRules.add(rule.id);
      logger.error({ ruleId: rule.id, err }, 'rule failed on an event; it counts as no match');
    },
  });
  const metrics = createDetectorMetrics({
    defaultMetrics: deps.processMetrics ?? true,
    rules: () => engine.size,
  });
  const consumer: Consumer = bus.consumer({
    groupId: config.groupId,
    topics: [config.topics.events],
    maxBatchRecords: config.maxBatchRecords,
  });

  /**
   * Decodes one event record and evaluates it. A record whose kind header names a kind no
   * loaded rule runs on is not decoded at all (decoding costs more than the rules on most
   * events); it is committed with its batch. Anything else must decode and carry the identity
   * ingest stamps. Only events that match are kept: the others become garbage at once, while
   * the batch's produce and commit are awaited, instead of surviving into the old generation.
   */
  function decodeAndEvaluate(record: {
    value: Buffer;
    headers: Readonly<Record<string, string>>;
  }): Matched | typeof SKIPPED | typeof NO_MATCH {
    const kind = record.headers[EventHeaders.kind];
    if (kind !== undefined && engine.rulesFor(kind as EventKind).length === 0) return SKIPPED;
    // The same object as createEventCodec().decode, from a decoder generated for the schema.
    const event = decodeEventBytes(record.value);
    if (event.tenant_id === '') throw missing('tenant_id');
    if (event.agent_id === '') throw missing('agent_id');
    if (event.id === '') throw missing('id');
    const rules = engine.evaluate(event);
    return rules.length === 0 ? NO_MATCH : { event, rules };
  }
  const decode = createDeadLetterDecoder<Matched | typeof SKIPPED | typeof NO_MATCH>({
    bus,
    decode: decodeAndEvaluate,
    groupId: config.groupId,
    logger: logger.child({ topic: config.topics.events }),
  });

  let stopping = false;
  let started = false;
  let consuming = false;
  let produceFailure: string | undefined;
  let watcher: RuleWatcher | undefined;
  /** The commits not yet done, in order; stop waits for them before leaving the group. */
  let committing: Promise<void> = Promise.resolve();
  /** The handler running now, so that stop waits for it. */
  let handling: Promise<void> | undefined;
  /** Holds batches that arrive after stop began, until the consumer closes. */
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));

  async function handle(batch: ConsumedBatch): Promise<void> {
    // After stop began nothing more is evaluated or committed: those records are delivered
    // again after a restart. Holding the handler keeps the consumer from racing on meanwhile.
    if (stopping) return held;
    if (batch.records.length === 0) return;
    const began = performance.now();
    const decoded = await decode(batch);
    const alerts: ProduceRecord[] = [];
    const raised: CompiledRule[] = [];
    let evaluated = 0;
    for (let i = 0; i < decoded.length; i++) {
      const outcome = decoded[i]!.value;
      if (outcome === SKIPPED) continue;
      evaluated++;
      if (outcome === NO_MATCH) continue;
      const { event, rules } = outcome;
      const key = Buffer.from(`${event.tenant_id}/${event.agent_id}`);
      for (const rule of rules) {
        alerts.push({ key, value: alertCodec.encode(toAlert(rule, event)) });
        raised.push(rule);
      }
    }
    metrics.batchEvaluation.observe((performance.now() - began) / 1000);
    metrics.eventsEvaluated.inc(evaluated);
    const skipped = decoded.length - evaluated;
    if (skipped > 0) metrics.eventsSkipped.inc(skipped);
    const dead = batch.records.length - decoded.length;
    if (dead > 0) metrics.deadLetters.inc(dead);
    if (alerts.length > 0) {
      try {
        await bus.produce(config.topics.alerts, alerts);
      } catch (err) {
        // Nothing is committed: the bus delivers the batch again after a backoff, and the
        // alerts produced again keep their ids.
        metrics.produceFailures.inc();
        const message = err instanceof Error ? err.message : String(err);
        produceFailure = message.slice(0, 200);
        throw err;
      }
      produceFailure = undefined;
      for (const rule of raised) {
        metrics.alertsProduced.inc({ rule: rule.id, severity: rule.severity });
      }
    } else {
      produceFailure = undefined;
    }
    const { topic, partition } = batch;
    const offset = batch.records.at(-1)!.offset + 1;
    // The alerts are durable, so the commit need not hold the next batch back: it runs while
    // the next batch is decoded and evaluated (an fsync of the embedded log, a round trip to
    // Kafka). Commits stay in order, one after another, so an offset never goes back.
    const commit = async (): Promise<void> => {
      try {
        await consumer.commit([{ topic, partition, offset }]);
      } catch (err) {
        // The next commit of the partition covers these records, and if the partition went to
        // another member it evaluates them again, with the same alert ids.
        logger.warn(
          { topic, partition, offset, err },
          'could not commit after producing alerts; the records may be evaluated again',
        );
      }
    };
    committing = committing.then(commit);
  }

  function logRules(set: LoadedRules): void {
    for (const { file, line, message } of set.problems) {
      logger.warn({ at: `${file}:${line}`, problem: message }, 'rule file problem');
    }
    for (const { rule, reason, field, file, line } of set.skipped) {
      logger.warn(
        { at: file === undefined ? undefined : `${file}:${line ?? 0}`, rule, reason, field },
        'rule skipped',
      );
    }
    for (const { file, reason } of set.unreadable) {
      logger.error({ at: file, reason }, 'rule file cannot be read');
    }
  }

  let reloading: Promise<unknown> = Promise.resolve();
  async function doReload(): Promise<ReloadResult> {
    const next = await loader.load();
    const verdict = reloadVerdict(loaded, next);
    if (!verdict.apply) {
      metrics.ruleReloads.inc({ result: 'refused' });
      logRules(next);
      logger.error(
        { reason: verdict.reason, rules: engine.size },
        'rule reload refused; the running rules stay',
      );
      return { applied: false, rules: engine.size, reason: verdict.reason };
    }
    engine.reload(next);
    loaded = next;
    failingRules.clear();
    metrics.ruleReloads.inc({ result: 'applied' });
    logRules(next);
    logger.info(
      { rules: next.rules.length, skipped: next.skipped.length, problems: next.problems.length },
      'rules reloaded',
    );
    return { applied: true, rules: engine.size };
  }
  function reload(): Promise<ReloadResult> {
    const run = reloading.then(doReload, doReload);
    reloading = run.catch(() => undefined);
    return run;
  }

  return {
    async start() {
      loaded = await loader.load();
      engine.reload(loaded);
      logRules(loaded);
      logger.info(
        {
          rules: loaded.rules.length,
          skipped: loaded.skipped.length,
          problems: loaded.problems.length,
          builtin: config.builtinRules,
          files: config.ruleFiles,
        },
        'rules loaded',
      );
      if (engine.size === 0) logger.warn('no rules loaded: the detector raises no alerts');
      // The detector may start before ingest and the store: whoever comes first creates the
      // topics, with the same settings.
      await bus.ensureTopics([
        { topic: config.topics.events, partitions: config.eventPartitions },
        { topic: config.topics.alerts, partitions: config.eventPartitions },
      ]);
      if (config.watchRules && config.ruleFiles.length > 0) {
        watcher = watchRuleFiles({
          files: config.ruleFiles,
          debounceMs: deps.watchDebounceMs ?? 200,
          logger,
          onChange: () => {
            if (stopping) return;
            reload().catch((err: unknown) => logger.error({ err }, 'rule reload failed'));
          },
        });
      }
      started = true;
      await consumer.run((batch) => {
        const run = handle(batch);
        handling = run;
        return run;
      });
      consuming = true;
      logger.info(
        {
          groupId: config.groupId,
          topic: config.topics.events,
          alertsTopic: config.topics.alerts,
          bus: bus.kind,
        },
        'detector consuming',
      );
    },

    async stop(graceMs = 30_000) {
      if (stopping) return;
      stopping = true;
      consuming = false;
      watcher?.close();
      const running = handling;
      // The batch being handled, then every commit queued by then (the last one included).
      const drained = (async () => {
        await running?.catch(() => undefined);
        await committing;
      })();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          drained,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
        ]);
      } finally {
        clearTimeout(timer);
        releaseHeld();
        await reloading;
        if (started) await consumer.close();
      }
    },

    reload,
    metrics,
    rules: () => loaded.rules,
    readiness() {
      if (!consuming) return { ready: false, reason: 'not consuming (starting or stopping)' };
      if (produceFailure === undefined) return { ready: true };
      return { ready: false, reason: `alerts not acknowledged, retrying: ${produceFailure}` };
    },
  };
}
