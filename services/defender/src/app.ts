import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@mamori/common';
import { protoType, type Event, type Policy__Output } from '@mamori/proto';
import { policyVersion } from '@mamori/rules';
import { EventQueue, type DropCounts } from './agent/event-queue.js';
import { createIngestLink, type IngestLink, type LinkStats } from './agent/link.js';
import { loadPolicies, savePolicies } from './agent/policy-cache.js';
import type { DefenderConfig } from './config.js';
import { createEnforcer, type Enforcer, type NodeActions } from './enforce/enforcer.js';
import type { EventPriority, Sensor, SensorStatus } from './sensors/sensor.js';
import { openSpool, type Spool, type SpoolStats } from './spool/spool.js';
import type { WaasEngine } from './waas/engine.js';

export interface DefenderDeps {
  config: Readonly<DefenderConfig>;
  logger: Logger;
  sensors: readonly Sensor[];
  /** How the node is acted on (kill, stop a container). */
  actions: NodeActions;
  /** The WAAS engine of the node's proxies and access logs: it gets every policy set too. */
  waas?: WaasEngine;
  /** @default the package's version */
  version?: string;
}

export interface DefenderStats {
  /** Events the sensors handed over, and how many were dropped (queue or spool full). */
  events: number;
  dropped: DropCounts;
  queued: number;
  spool: SpoolStats;
  link: LinkStats;
  sensors: SensorStatus[];
  /** Sensors that could not start here, with why. */
  unavailable: { sensor: string; reason: string }[];
  enforcing: number;
}

export interface DefenderApp {
  /** Opens the spool, starts the sensors and connects (reconnecting forever). */
  start(): Promise<void>;
  /** Stops the sensors, spools what is queued, and disconnects; the spool keeps the rest. */
  stop(): Promise<void>;
  /** Hands an event to the agent as a sensor would (for sensors outside `sensors`). */
  emit(event: Event, priority?: EventPriority): boolean;
  stats(): DefenderStats;
}

const EVENT_BATCH = protoType('mamori.v1.EventBatch');
/**
 * Bytes of an encoded batch at most: half of ingest's default message limit (8 MiB), so that
 * events with large payloads (web requests with their bodies) never make a batch ingest must
 * refuse — it would be resent, and refused, forever.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const EVENT = protoType('mamori.v1.Event');
/** The key of one element of `EventBatch.events`: its field number, wire type 2 (bytes). */
const EVENTS_KEY = (EVENT_BATCH.fields['events']!.id << 3) | 2;
/** Room a batch's other fields and each event's key and length take, bytes at most. */
const BATCH_HEADER_BYTES = 64;
const EVENT_FRAME_BYTES = 6;

/** A run of events for one batch, each already encoded. */
export interface BatchRun {
  events: Event[];
  encoded: Uint8Array[];
}

/**
 * The events in order, each encoded once, split into runs whose batch stays under `maxBytes`
 * (one event alone may exceed it: ingest then refuses that event only). Usually one run.
 */
export function batchRuns(events: Event[], maxBytes = MAX_BATCH_BYTES): BatchRun[] {
  const runs: BatchRun[] = [];
  let run: BatchRun = { events: [], encoded: [] };
  let bytes = BATCH_HEADER_BYTES;
  for (const event of events) {
    const encoded = EVENT.encode(EVENT.fromObject(event)).finish();
    const size = encoded.length + EVENT_FRAME_BYTES;
    if (run.events.length > 0 && bytes + size > maxBytes) {
      runs.push(run);
      run = { events: [], encoded: [] };
      bytes = BATCH_HEADER_BYTES;
    }
    run.events.push(event);
    run.encoded.push(encoded);
    bytes += size;
  }
  if (run.events.length > 0) runs.push(run);
  return runs;
}

/** A batch from events encoded already: its own fields, then each event as field `events`. */
function frameBatch(
  sequence: number,
  encoded: readonly Uint8Array[],
  droppedLow: number,
  droppedHigh: number,
): Buffer {
  const writer = EVENT_BATCH.encode(
    EVENT_BATCH.fromObject({ sequence, dropped_low: droppedLow, dropped_high: droppedHigh }),
  );
  for (const bytes of encoded) writer.uint32(EVENTS_KEY).bytes(bytes);
  return Buffer.from(writer.finish());
}

// Above this share of its size the spool takes high-priority events only: the rest of its room
// is kept for what matters while the platform stays away.
const SPOOL_HIGH_ONLY = 0.9;

/** Builds the defender; nothing runs until `start`. */
export function buildDefender(deps: DefenderDeps): DefenderApp {
  const { config, logger } = deps;
  const queue = new EventQueue(config.queueEvents);
  // Event ids: unique per agent across restarts (a random prefix per run, a counter).
  const runId = randomBytes(6).toString('hex');
  let counter = 0;
  let events = 0;
  let spool: Spool | undefined;
  let link: IngestLink | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let reportedDrops: DropCounts = { low: 0, high: 0 };
  /** Drops already told to ingest in a batch's counts. */
  let sentDrops: DropCounts = { low: 0, high: 0 };
  const statuses: SensorStatus[] = [];
  const unavailable: { sensor: string; reason: string }[] = [];
  const started: Sensor[] = [];
  let tenant = '';
  let policies: readonly Policy__Output[] = [];
  let enforcer: Enforcer | undefined;

  function stamp(event: Event): void {
    // A sensor may have chosen the id already (the WAAS proxy answers a block with it).
    event.id ||= `${runId}-${(++counter).toString(36)}`;
    event.agent_id = config.agentId;
    event.host ??= { hostname: config.hostname };
    event.observed_unix_micros ??= Date.now() * 1000;
  }

  function emit(event: Event, priority: EventPriority = 'high'): boolean {
    const seen = performance.now();
    events++;
    stamp(event);
    // Enforcement first: it must not wait for a batch, and the kill does not hold the sensor.
    enforcer?.inspect(event, seen);
    const queued = queue.push(event, priority);
    if (queue.size >= config.batch.maxEvents) void flush();
    return queued;
  }

  /** Moves queued events into the spool as one batch, and wakes the link. */
  function flush(): Promise<void> {
    const run = flushing.then(async () => {
      while (spool !== undefined && queue.size > 0) {
        const current = spool;
        const highOnly = current.stats().bytes > config.spool.maxBytes * SPOOL_HIGH_ONLY;
        const taken = queue.take(config.batch.maxEvents, highOnly);
        if (taken.length === 0) continue;
        // The drops since the last batch travel with this one: ingest counts what agents lose.
        const drops = { low: queue.dropped.low, high: queue.dropped.high };
        let lost = false;
        let first = true;
        let appended = 0;
        for (const run of batchRuns(taken)) {
          const low = first ? drops.low - sentDrops.low : 0;
          const high = first ? drops.high - sentDrops.high : 0;
          const sequence = await current.append((seq) => frameBatch(seq, run.encoded, low, high));
          if (sequence === undefined) {
            // The spool is full: these are lost, counted as high (only high ones get this far
            // once it is nearly full).
            queue.dropped.high += taken.length - appended;
            lost = true;
            break;
          }
          if (first) sentDrops = drops;
          first = false;
          appended += run.events.length;
        }
        if (lost) break;
      }
      const { dropped } = queue;
      if (dropped.low !== reportedDrops.low || dropped.high !== reportedDrops.high) {
        logger.warn(
          { droppedLow: dropped.low, droppedHigh: dropped.high, spoolBytes: spool?.stats().bytes },
          'events dropped: the queue or the spool is full',
        );
        reportedDrops = { ...dropped };
      }
      link?.wake();
    });
    flushing = run.catch((err: unknown) => logger.error({ err }, 'could not spool a batch'));
    return flushing;
  }

  function applyPolicies(next: string, set: readonly Policy__Output[]): void {
    tenant = next;
    policies = set;
    enforcer?.setPolicies(tenant, set);
    deps.waas?.setPolicies(set);
  }

  return {
    emit,
    async start() {
      spool = await openSpool({ dir: config.spool.dir, maxBytes: config.spool.maxBytes });
      const pending = spool.stats();
      if (pending.pending > 0) {
        logger.info(
          { pending: pending.pending, bytes: pending.bytes },
          'spooled batches from before are sent first',
        );
      }
      if (config.enforce) {
        enforcer = createEnforcer({
          logger: logger.child({ component: 'enforce' }),
          actions: deps.actions,
          report: (event) => emit(event, 'high'),
        });
      }
      // The last policy set pushed, so that enforcement works before (or without) a connection.
      const cached = await loadPolicies(config.spool.dir);
      if (cached !== undefined) applyPolicies(cached.tenant, cached.policies);
      const credentials = config.tlsCa
        ? grpc.credentials.createSsl(config.tlsCa)
        : grpc.credentials.createInsecure();
      const sensorNames = deps.sensors.map((s) => s.name);
      link = createIngestLink({
        address: config.ingest,
        credentials,
        token: config.token,
        hello: {
          agentId: config.agentId,
          hostname: config.hostname,
          version: deps.version ?? '0.1.0',
          capabilities: [
            ...sensorNames,
            ...(config.enforce ? ['enforce.kill', 'enforce.stop'] : []),
          ],
        },
        spool,
        backoff: config.reconnect,
        logger: logger.child({ component: 'link' }),
        policyVersion: () => policyVersion(policies),
        onWelcome(welcome) {
          if (welcome.tenant_id !== tenant) applyPolicies(welcome.tenant_id, policies);
        },
        onPolicy(update) {
          applyPolicies(tenant, update.policies);
          savePolicies(config.spool.dir, { tenant, policies: update.policies }).catch(
            (err: unknown) => logger.warn({ err }, 'could not keep the policy set on disk'),
          );
        },
        async onCommand(command) {
          if (command.action === 'kill_process' && command.kill_process) {
            const result = await deps.actions.kill(
              command.kill_process.pid,
              command.kill_process.start_unix_micros,
            );
            return { command_id: command.id, ok: result.ok, error: result.ok ? '' : result.error };
          }
          if (command.action === 'stop_container' && command.stop_container) {
            const result = await deps.actions.stopContainer(
              command.stop_container.container_id,
              '',
            );
            return { command_id: command.id, ok: result.ok, error: result.ok ? '' : result.error };
          }
          return { command_id: command.id, ok: false, error: 'unknown command' };
        },
      });
      link.start();
      const context = { emit, logger };
      for (const sensor of deps.sensors) {
        try {
          const status = await sensor.start({
            ...context,
            logger: logger.child({ sensor: sensor.name }),
          });
          statuses.push(status);
          started.push(sensor);
          logger.info(
            { sensor: status.sensor, mode: status.mode, limitations: status.limitations },
            'sensor started',
          );
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          unavailable.push({ sensor: sensor.name, reason });
          logger.warn({ sensor: sensor.name, reason }, 'sensor unavailable here; the others run');
        }
      }
      flushTimer = setInterval(() => void flush(), config.batch.maxMs);
      flushTimer.unref();
    },
    async stop() {
      clearInterval(flushTimer);
      for (const sensor of started.reverse()) {
        await sensor
          .stop()
          .catch((err: unknown) => logger.warn({ sensor: sensor.name, err }, 'sensor stop failed'));
      }
      await flush();
      // A moment for acknowledgements of what is in flight; the spool keeps whatever is not.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await link?.stop();
      await spool?.close();
    },
    stats() {
      return {
        events,
        dropped: { ...queue.dropped },
        queued: queue.size,
        spool: spool?.stats() ?? { bytes: 0, pending: 0, acked: 0, nextSequence: 1 },
        link: link?.stats() ?? { connected: false, sessions: 0, acked: 0, rejected: 0, retried: 0 },
        sensors: [...statuses],
        unavailable: [...unavailable],
        enforcing: enforcer?.rules ?? 0,
      };
    },
  };
}
