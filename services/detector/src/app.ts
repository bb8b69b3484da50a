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
  compileTuning,
  createRuleEngine,
  PolicyStore,
  RuleTuningStore,
  type CompiledRule,
  type CompiledTuning,
  type EventKind,
  type RuleEngine,
} from '@mamori/rules';
import { createCheckpointStore, type CheckpointStore } from './bus/checkpoints.js';
import { createRuleCatalogPublisher } from './bus/rule-catalog.js';
import { createTenantFollower, type TenantFollower } from './bus/tenant-follower.js';
import type { DetectorConfig } from './config.js';
import { createAlertCodec, toAlert } from './detection/alert.js';
import { createDetectorMetrics, type DetectorMetrics } from './metrics.js';
import {
  createRuleLoader,
  reloadVerdict,
  type LoadedRules,
  type RuleLoader,
} from './rules/load.js';
import { createTenantPolicyRules, type TenantPolicyRules } from './policies/tenant-rules.js';
import { watchRuleFiles, type RuleWatcher } from './rules/watch.js';
import { createPortScanRule } from './stateful/port-scan.js';
import {
  createPartitionState,
  serializePartitionState,
  type PartitionState,
  type StatefulRule,
} from './stateful/rule.js';

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
  /**
   * The stateful rules, when `config.statefulRules` is on.
   * @default the port scan (`createPortScanRule()`)
   */
  statefulRules?: readonly StatefulRule[];
  /**
   * How long start waits to have read the policies and the rule tuning topics up to date
   * before consuming events, in ms; after that events are evaluated against what was read.
   * @default 30000 (the topics hold one small record per version of a policy, exception or
   * setting: read in well under a second on a healthy bus)
   */
  policySyncTimeoutMs?: number;
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

/** An event that matched, or that stateful rules look at, with the rules it matched. */
interface Matched {
  event: Event__Output;
  rules: readonly CompiledRule[];
}

/**
 * A partition's stateful rules: the state in memory, the last checkpoint taken, and the events
 * evaluated since. A batch delivered again after a failed produce starts from the checkpoint
 * with those events offered again, so no snapshot is needed after every batch.
 */
interface PartitionEntry {
  live: PartitionState;
  /** The last checkpoint taken (written, or queued to be), and the offset it covers. */
  base: { offset: number; json: string };
  /**
   * The events offered to the stateful rules since `base`, in order, of the batches whose
   * alerts the bus acknowledged.
   */
  since: Event__Output[];
  /** The offset after the last batch whose alerts were acknowledged: `base` plus `since`. */
  acked: number;
  /** When `base` was taken (performance.now()). */
  checkpointedAt: number;
}

/** Events kept for a replay at most: past it the next batch checkpoints whatever the time. */
const MAX_REPLAY_EVENTS = 200_000;

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
  const statefulRules: readonly StatefulRule[] = config.statefulRules
    ? (deps.statefulRules ?? [createPortScanRule()])
    : [];
  const statefulSeverity = new Map(statefulRules.map((rule) => [rule.id, rule.severity]));
  const statefulKinds = new Set<string>(statefulRules.flatMap((rule) => rule.kinds));
  /** Each events partition's stateful rules; see `partitionState`. */
  const partitions = new Map<number, PartitionEntry>();
  /** Each tenant's exceptions and rule settings, compiled; absent for a tenant with none. */
  const tunings = new Map<string, CompiledTuning>();
  const metrics = createDetectorMetrics({
    defaultMetrics: deps.processMetrics ?? true,
    rules: () => engine.size,
    tuning() {
      let exceptions = 0;
      let disabled = 0;
      for (const tuning of tunings.values()) {
        exceptions += tuning.exceptions;
        disabled += tuning.disabled;
      }
      return { exceptions, disabled };
    },
    statefulKeys() {
      const keys = new Map<string, number>(statefulRules.map((rule) => [rule.id, 0]));
      for (const { live } of partitions.values()) {
        for (const [id, instance] of live.instances)
          keys.set(id, (keys.get(id) ?? 0) + instance.keys);
      }
      return keys;
    },
  });
  const checkpoints: CheckpointStore | undefined =
    statefulRules.length === 0
      ? undefined
      : createCheckpointStore({
          bus,
          topic: config.topics.state,
          groupId: config.groupId,
          eventsTopic: config.topics.events,
        });
  const failingStateful = new Set<string>();
  const policyLogger = logger.child({ component: 'policies' });
  const failingPolicyRules = new Set<string>();
  const policyRules: TenantPolicyRules | undefined = config.policies
    ? createTenantPolicyRules({
        onRuleError(tenant, rule, err) {
          const key = `${tenant}/${rule.id}`;
          if (failingPolicyRules.has(key)) return;
          failingPolicyRules.add(key);
          policyLogger.error(
            { tenant, ruleId: rule.id, err },
            'policy rule failed on an event; it counts as no match',
          );
        },
      })
    : undefined;
  const policyStore = new PolicyStore();
  const follower: TenantFollower | undefined = policyRules
    ? createTenantFollower({
        bus,
        topic: config.topics.policies,
        logger: policyLogger,
        what: 'policies',
        groupPrefix: 'mamori-detector-policies',
        store: policyStore,
        onChange(tenant) {
          const policies = policyStore.policies(tenant);
          // The whole set is compiled again: a tenant has a few policies, compiled in well
          // under a millisecond, and a batch sees either the old set or the new one.
          const compiled = policyRules.set(tenant, policies);
          for (const { file, line, message } of compiled.problems) {
            policyLogger.warn(
              { tenant, at: `${file}:${line}`, problem: message },
              'policy problem',
            );
          }
          for (const { rule, reason, field } of compiled.skipped) {
            policyLogger.warn({ tenant, rule, reason, field }, 'policy rule skipped');
          }
          for (const key of failingPolicyRules) {
            if (key.startsWith(`${tenant}/`)) failingPolicyRules.delete(key);
          }
          policyLogger.info(
            { tenant, policies: policies.length, rules: compiled.rules },
            'tenant policies compiled',
          );
        },
      })
    : undefined;
  const tuningLogger = logger.child({ component: 'tuning' });
  const tuningStore = new RuleTuningStore();
  const tuningFollower: TenantFollower | undefined = config.tuning
    ? createTenantFollower({
        bus,
        topic: config.topics.tuning,
        logger: tuningLogger,
        what: 'rule tuning',
        groupPrefix: 'mamori-detector-tuning',
        store: tuningStore,
        onChange(tenant) {
          // Compiled again as a whole, like a tenant's policies: the next batch sees the new set.
          const exceptions = tuningStore.exceptions(tenant);
          const settings = tuningStore.settings(tenant);
          if (exceptions.length === 0 && settings.length === 0) {
            tunings.delete(tenant);
            tuningLogger.info({ tenant }, 'tenant rule tuning cleared');
            return;
          }
          const compiled = compileTuning(exceptions, settings);
          for (const { id, message } of compiled.problems) {
            tuningLogger.warn(
              { tenant, exception: id, problem: message },
              'rule exception ignored',
            );
          }
          tunings.set(tenant, compiled);
          tuningLogger.info(
            { tenant, exceptions: compiled.exceptions, disabledRules: compiled.disabled },
            'tenant rule tuning compiled',
          );
        },
      })
    : undefined;
  const catalog = createRuleCatalogPublisher({
    bus,
    topic: config.topics.ruleCatalog,
    groupId: config.groupId,
    logger,
    stateful: statefulRules,
  });

  /**
   * The rules of `rules` that raise an alert on `event`: those the event's tenant has neither
   * disabled nor excepted for it. Only matches get here, so the tuning costs nothing on the
   * events no rule matches.
   */
  function tuned(event: Event__Output, rules: readonly CompiledRule[]): readonly CompiledRule[] {
    const tuning = tunings.get(event.tenant_id);
    if (tuning === undefined) return rules;
    let kept: CompiledRule[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const suppressed = tuning.suppression(rule, event);
      if (suppressed === undefined) {
        kept?.push(rule);
        continue;
      }
      metrics.alertsSuppressed.inc({ by: suppressed.by });
      kept ??= rules.slice(0, i);
    }
    return kept ?? rules;
  }

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
    if (
      kind !== undefined &&
      engine.rulesFor(kind as EventKind).length === 0 &&
      !statefulKinds.has(kind) &&
      !(policyRules?.hasKind(kind) ?? false)
    ) {
      return SKIPPED;
    }
    // The same object as createEventCodec().decode, from a decoder generated for the schema.
    const event = decodeEventBytes(record.value);
    if (event.tenant_id === '') throw missing('tenant_id');
    if (event.agent_id === '') throw missing('agent_id');
    if (event.id === '') throw missing('id');
    const matched = engine.evaluate(event);
    // The event's own tenant's policies only: rule ids are unique per tenant.
    const own = policyRules?.evaluate(event);
    const all = own === undefined || own.length === 0 ? matched : [...matched, ...own];
    const rules = all.length === 0 ? all : tuned(event, all);
    if (rules.length > 0 || statefulKinds.has(event.payload ?? '')) return { event, rules };
    return NO_MATCH;
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

  /** Batches being handled now (the consumer hands one at a time); checkpoints wait for 0. */
  let busy = 0;
  let checkpointTimer: NodeJS.Timeout | undefined;
  /** While a partition's state is rebuilt: its evictions were counted the first time. */
  let replaying = false;

  async function handle(batch: ConsumedBatch): Promise<void> {
    // After stop began nothing more is evaluated or committed: those records are delivered
    // again after a restart. Holding the handler keeps the consumer from racing on meanwhile.
    if (stopping) return held;
    if (batch.records.length === 0) return;
    busy++;
    try {
      await handleBatch(batch);
    } finally {
      busy--;
    }
  }

  async function handleBatch(batch: ConsumedBatch): Promise<void> {
    const first = batch.records[0]!.offset;
    const next = batch.records.at(-1)!.offset + 1;
    const entry = checkpoints ? await partitionState(batch.partition, first) : undefined;
    const began = performance.now();
    const decoded = await decode(batch);
    const alerts: ProduceRecord[] = [];
    const raised: { id: string; severity: string }[] = [];
    const state = entry?.live;
    // Until the loop is done the state is of no offset: a throw in between leaves it unusable,
    // and the batch delivered again starts from the snapshot or the checkpoint.
    if (state) state.offset = -1;
    let evaluated = 0;
    /** What the stateful rules were offered, for a replay from the last checkpoint. */
    const offered: Event__Output[] = [];
    for (let i = 0; i < decoded.length; i++) {
      const outcome = decoded[i]!.value;
      if (outcome === SKIPPED) continue;
      evaluated++;
      if (outcome === NO_MATCH) continue;
      const { event, rules } = outcome;
      // Made on the first alert: most events of the stateful rules' kinds raise none.
      let key: Buffer | undefined;
      for (const rule of rules) {
        key ??= Buffer.from(`${event.tenant_id}/${event.agent_id}`);
        alerts.push({ key, value: alertCodec.encode(toAlert(rule, event)) });
        // Policy rules are counted together: their ids grow with tenants and policies.
        raised.push(rule.source === 'policy' ? { id: 'policy', severity: rule.severity } : rule);
      }
      if (state) {
        offered.push(event);
        for (const [id, instance] of state.instances) {
          let alert;
          try {
            alert = instance.observe(event);
          } catch (err) {
            if (!failingStateful.has(id)) {
              failingStateful.add(id);
              logger.error({ ruleId: id, err }, 'stateful rule failed on an event; it is skipped');
            }
            continue;
          }
          if (alert === undefined) continue;
          const suppressed = tunings.get(event.tenant_id)?.suppression({ id }, event);
          if (suppressed !== undefined) {
            metrics.alertsSuppressed.inc({ by: suppressed.by });
            continue;
          }
          key ??= Buffer.from(`${event.tenant_id}/${event.agent_id}`);
          alerts.push({ key, value: alertCodec.encode(alert) });
          raised.push({ id, severity: statefulSeverity.get(id) ?? 'info' });
        }
      }
    }
    if (state) state.offset = next;
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
    if (entry === undefined) {
      queueCommit(batch.partition, next, undefined);
      return;
    }
    for (const event of offered) entry.since.push(event);
    entry.acked = next;
    if (checkpointDue(entry)) checkpoint(batch.partition, entry);
  }

  function checkpointDue(entry: PartitionEntry): boolean {
    return (
      config.checkpointIntervalMs === 0 ||
      performance.now() - entry.checkpointedAt >= config.checkpointIntervalMs ||
      entry.since.length >= MAX_REPLAY_EVENTS
    );
  }

  /**
   * Takes the checkpoint of a partition's state as of its last acknowledged batch, and queues
   * it to be written, then that offset to be committed. Only when the state in memory is that
   * state (not one a failed batch left).
   */
  function checkpoint(partition: number, entry: PartitionEntry): void {
    if (entry.live.offset !== entry.acked || entry.base.offset === entry.acked) return;
    const json = serializePartitionState(entry.live);
    entry.base = { offset: entry.acked, json };
    entry.since = [];
    entry.checkpointedAt = performance.now();
    queueCommit(partition, entry.acked, json);
  }

  /**
   * Checkpoints (when due, or all with `force`) the partitions with progress since their last
   * checkpoint, while no batch is being handled, and that this member still owns: a partition
   * that moved is checkpointed by its new owner.
   */
  function checkpointIdle(force: boolean): void {
    if (busy > 0 || partitions.size === 0) return;
    const owned = new Set(
      consumer
        .assignment()
        .filter((tp) => tp.topic === config.topics.events)
        .map((tp) => tp.partition),
    );
    for (const [partition, entry] of partitions) {
      if (owned.has(partition) && (force || checkpointDue(entry))) checkpoint(partition, entry);
    }
  }

  /**
   * Queues the commit of `offset` after the checkpoint of the state there, when there is one.
   * The alerts are durable, so the commit need not hold the next batch back: it runs while
   * the next batch is decoded and evaluated (an fsync of the embedded log, a round trip to
   * Kafka). Commits stay in order, one after another, so an offset never goes back.
   */
  function queueCommit(partition: number, offset: number, state: string | undefined): void {
    const topic = config.topics.events;
    const commit = async (): Promise<void> => {
      if (checkpoints && state !== undefined) {
        // The checkpoint first: a committed offset then always has a checkpoint of its own. A
        // crash between the two leaves a checkpoint ahead of the commit, which is not used (the
        // batch is evaluated again from the previous one); the other order would leave a commit
        // without its checkpoint, and the windows of those events would be lost.
        try {
          await checkpoints.write(partition, offset, state);
          metrics.checkpoints.inc();
          metrics.checkpointBytes.inc(Buffer.byteLength(state));
        } catch (err) {
          metrics.checkpointFailures.inc();
          logger.warn(
            { topic, partition, offset, err },
            'could not write the checkpoint of stateful rules; the batch is not committed',
          );
          return;
        }
      }
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

  /**
   * The stateful rules' state of a partition, for a batch that begins at `first`. The state in
   * memory is used when it has reached exactly that offset; else the snapshot of the last
   * batch whose alerts were acknowledged (a batch delivered again after a failed produce); else
   * the partition's checkpoint on the bus of exactly that offset — the offset the group
   * committed, since every commit follows its checkpoint — after the commits still queued
   * (and their checkpoints) are done. A partition this member sees for the first time, or
   * again after another member had it, always reads the checkpoint. Without a checkpoint of
   * that offset the state starts empty, logged and counted.
   */
  async function partitionState(partition: number, first: number): Promise<PartitionEntry> {
    const known = partitions.get(partition);
    if (known && known.live.offset === first) return known;
    const hooks = (rule: StatefulRule) => ({
      onEvict: () => {
        if (!replaying) metrics.statefulEvictions.inc({ rule: rule.id });
      },
    });
    if (known && (known.acked === first || known.base.offset === first)) {
      // From the last checkpoint taken. A batch delivered again after its alerts were refused
      // starts where the acknowledged ones ended: their events since are offered again, in
      // order (the rules are deterministic, and the alerts they raise now were produced the
      // first time). A partition back at that checkpoint (a rebalance dropped the progress
      // after it) starts there, and the events since are forgotten.
      const replay = known.acked === first ? known.since : [];
      const live = createPartitionState(statefulRules, {
        offset: known.base.offset,
        hooks,
        from: known.base.json,
      });
      replaying = true;
      try {
        for (const event of replay) {
          for (const instance of live.instances.values()) {
            try {
              instance.observe(event);
            } catch {
              // Failed the first time too, and was logged then.
            }
          }
        }
      } finally {
        replaying = false;
      }
      live.offset = first;
      known.live = live;
      known.since = replay;
      known.acked = first;
      return known;
    }
    await committing;
    const topic = config.topics.events;
    const found = await checkpoints!.read(partition, first);
    let live: PartitionState | undefined;
    if (found.match !== undefined) {
      try {
        live = createPartitionState(statefulRules, { offset: first, hooks, from: found.match });
        metrics.stateRestores.inc({ result: 'checkpoint' });
        logger.info(
          { topic, partition, offset: first },
          'stateful rules resume from their checkpoint',
        );
      } catch (err) {
        metrics.stateRestores.inc({ result: 'invalid' });
        logger.warn(
          { topic, partition, offset: first, err },
          'stateful rules start empty: their checkpoint cannot be read',
        );
      }
    } else if (found.latestOffset === undefined) {
      metrics.stateRestores.inc({ result: 'none' });
      logger.info(
        { topic, partition, offset: first },
        'stateful rules start empty: the partition has no checkpoint',
      );
    } else {
      metrics.stateRestores.inc({ result: 'mismatch' });
      logger.warn(
        { topic, partition, offset: first, checkpointOffset: found.latestOffset },
        'stateful rules start empty: no checkpoint of the offset consumption resumes from',
      );
    }
    live ??= createPartitionState(statefulRules, { offset: first, hooks });
    const entry: PartitionEntry = {
      live,
      base: { offset: first, json: serializePartitionState(live) },
      since: [],
      acked: first,
      checkpointedAt: performance.now(),
    };
    partitions.set(partition, entry);
    return entry;
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
    catalog.publish(next.rules, next.skipped);
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
        ...(checkpoints ? [checkpoints.spec] : []),
        catalog.spec,
        // The same settings as ingest's: whoever comes first creates it.
        ...(follower
          ? [
              {
                topic: config.topics.policies,
                partitions: 1,
                cleanupPolicy: 'compact' as const,
                retentionMs: -1,
                retentionBytes: -1,
              },
            ]
          : []),
        // The same settings as the API's: whoever comes first creates it.
        ...(tuningFollower
          ? [
              {
                topic: config.topics.tuning,
                partitions: 1,
                cleanupPolicy: 'compact' as const,
                retentionMs: -1,
                retentionBytes: -1,
              },
            ]
          : []),
      ]);
      catalog.publish(loaded.rules, loaded.skipped);
      // Before consuming: events are evaluated against every policy and exception already
      // written (both topics are read at once).
      const syncMs = deps.policySyncTimeoutMs ?? 30_000;
      await Promise.all([follower?.start(syncMs), tuningFollower?.start(syncMs)]);
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
      if (checkpoints && config.checkpointIntervalMs > 0) {
        // Progress after the last batch of a burst is checkpointed (and committed) here.
        checkpointTimer = setInterval(
          () => checkpointIdle(false),
          Math.max(50, Math.floor(config.checkpointIntervalMs / 2)),
        );
        checkpointTimer.unref();
      }
      logger.info(
        {
          groupId: config.groupId,
          topic: config.topics.events,
          alertsTopic: config.topics.alerts,
          stateful: statefulRules.map((rule) => rule.id),
          ...(checkpoints ? { stateTopic: config.topics.state } : {}),
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
      clearInterval(checkpointTimer);
      const running = handling;
      // The batch being handled, the checkpoints of what was evaluated since the last ones,
      // then every commit queued by then: a restart evaluates nothing twice.
      const drained = (async () => {
        await running?.catch(() => undefined);
        if (checkpoints && started) checkpointIdle(true);
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
        await follower?.stop();
        await tuningFollower?.stop();
        await catalog.stop();
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
