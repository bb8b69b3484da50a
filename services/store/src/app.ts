import {
  createDeadLetterDecoder,
  type Bus,
  type ConsumedBatch,
  type Consumer,
  type DeadLetterDecoder,
} from '@mamori/bus';
import type { Logger, Readiness } from '@mamori/common';
import { createEventRowEncoder } from '@mamori/warehouse';
import type { StoreConfig } from './config.js';
import { createStoreMetrics, type StoreMetrics } from './metrics.js';
import { createBatcher, type Batcher } from './pipeline/batcher.js';
import {
  agentsStream,
  alertsStream,
  eventsStream,
  type StoreStream,
  type StoreWarehouse,
} from './streams.js';

export interface StoreDeps {
  config: Readonly<StoreConfig>;
  bus: Bus;
  warehouse: StoreWarehouse;
  logger: Logger;
  /** The topics to store. @default the events, agents and alerts topics of `config` */
  streams?: readonly StoreStream<unknown>[];
  /**
   * Whether the store's registry collects process metrics; off when another service of the
   * same process already does (`mamori start`). @default true
   */
  processMetrics?: boolean;
}

export interface StoreApp {
  /** Joins the consumer group and starts storing. */
  start(): Promise<void>;
  /**
   * Stops fetching, inserts and commits what is buffered, then leaves the group. When the
   * insert has not succeeded after `graceMs` (ClickHouse down), gives up without committing:
   * those records are delivered again after a restart.
   */
  stop(graceMs?: number): Promise<void>;
  /** Records buffered and not yet inserted. */
  pending(): number;
  /** Prometheus metrics (prefix `mamori_store_`). */
  readonly metrics: StoreMetrics;
  /**
   * Ready while consuming, unless the last insert of a stream failed (ClickHouse down: the
   * store retries, but takes in nothing new meanwhile).
   */
  readiness(): Readiness;
}

interface Route {
  stream: StoreStream<unknown>;
  decode: DeadLetterDecoder<unknown>;
  batcher: Batcher<unknown>;
}

/** Builds the store without connecting or consuming anything. */
export function buildApp(deps: StoreDeps): StoreApp {
  const { config, bus, warehouse, logger } = deps;
  // Rows of events are made on a thread of their own unless configured otherwise.
  const encoder =
    deps.streams === undefined && config.encoderThread ? createEventRowEncoder() : undefined;
  const streams: readonly StoreStream<unknown>[] = deps.streams ?? [
    eventsStream(config.topics.events, config.eventPartitions, encoder) as StoreStream<unknown>,
    agentsStream(config.topics.agents) as StoreStream<unknown>,
    alertsStream(config.topics.alerts, config.eventPartitions) as StoreStream<unknown>,
  ];
  const aborter = new AbortController();
  const consumer: Consumer = bus.consumer({
    groupId: config.groupId,
    topics: streams.map((stream) => stream.topic),
    // Bus batches feed the store's own batches; larger fetches mean fewer handler calls.
    maxBatchRecords: Math.min(config.batch.maxRecords, 5000),
  });
  const routes = new Map<string, Route>();
  const metrics = createStoreMetrics({
    defaultMetrics: deps.processMetrics ?? true,
    pending: () =>
      new Map([...routes.values()].map((route) => [route.stream.name, route.batcher.pending()])),
  });
  /** The error of each stream whose last insert failed; cleared by its next success. */
  const failingInserts = new Map<string, string>();
  async function insert(stream: StoreStream<unknown>, values: unknown[]): Promise<void> {
    const labels = { stream: stream.name };
    const stop = metrics.insertDuration.startTimer(labels);
    try {
      await stream.insert(warehouse, values);
    } catch (err) {
      stop();
      metrics.insertFailures.inc(labels);
      const message = err instanceof Error ? err.message : String(err);
      failingInserts.set(stream.name, message.slice(0, 200));
      throw err;
    }
    stop();
    metrics.insertBatches.inc(labels);
    metrics.recordsInserted.inc(labels, values.length);
    failingInserts.delete(stream.name);
  }
  for (const stream of streams) {
    const log = logger.child({ stream: stream.name, topic: stream.topic });
    routes.set(stream.topic, {
      stream,
      decode: createDeadLetterDecoder({
        bus,
        decode: stream.decode,
        ...(stream.decodeBatch ? { decodeBatch: stream.decodeBatch } : {}),
        groupId: config.groupId,
        logger: log,
      }),
      batcher: createBatcher({
        insert: (values) => insert(stream, values),
        commit: (offsets) => consumer.commit(offsets),
        maxRecords: config.batch.maxRecords,
        maxBytes: config.batch.maxBytes,
        flushMs: config.batch.flushMs,
        maxInFlight: config.batch.insertsInFlight,
        retry: config.retry,
        signal: aborter.signal,
        logger: log,
      }),
    });
  }
  let stopping = false;
  let started = false;
  let consuming = false;
  /** The handler running now, so that stop waits for what it adds. */
  let handling: Promise<void> | undefined;

  /** Holds batches that arrive after stop began, until the consumer closes. */
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));

  async function handle(batch: ConsumedBatch): Promise<void> {
    // After stop began nothing more is buffered, and these records are not committed either
    // (commits only cover buffered batches): they are delivered again after a restart. Holding
    // the handler keeps the consumer from racing through the backlog meanwhile.
    if (stopping) return held;
    const route = routes.get(batch.topic);
    if (route === undefined || batch.records.length === 0) return;
    const decoded = await route.decode(batch);
    if (decoded.length < batch.records.length) {
      metrics.deadLetters.inc({ stream: route.stream.name }, batch.records.length - decoded.length);
    }
    let bytes = 0;
    for (const record of batch.records) bytes += record.value.length;
    await route.batcher.add({
      topic: batch.topic,
      partition: batch.partition,
      nextOffset: batch.records.at(-1)!.offset + 1,
      values: decoded.map((item) => item.value),
      bytes,
    });
  }

  return {
    async start() {
      // The store may start before ingest: whichever comes first creates the topics, with the
      // same settings.
      await bus.ensureTopics(
        streams.map((stream) => ({ topic: stream.topic, partitions: stream.partitions })),
      );
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
          topics: streams.map((stream) => stream.topic),
          bus: bus.kind,
          batch: config.batch,
        },
        'store consuming',
      );
    },

    async stop(graceMs = 30_000) {
      if (stopping) return;
      stopping = true;
      consuming = false;
      const timer = setTimeout(() => aborter.abort(), graceMs);
      // The batch being handled when stop began (read now: later ones are held).
      const running = handling;
      try {
        await running?.catch(() => undefined);
        await Promise.all([...routes.values()].map((route) => route.batcher.flush()));
      } finally {
        clearTimeout(timer);
        releaseHeld();
        if (started) await consumer.close();
        await encoder?.close();
      }
    },

    pending: () => [...routes.values()].reduce((sum, route) => sum + route.batcher.pending(), 0),
    metrics,
    readiness() {
      if (!consuming) return { ready: false, reason: 'not consuming (starting or stopping)' };
      if (failingInserts.size === 0) return { ready: true };
      const failures = [...failingInserts].map(([name, error]) => `${name}: ${error}`);
      return { ready: false, reason: `inserts failing, retrying: ${failures.join('; ')}` };
    },
  };
}
