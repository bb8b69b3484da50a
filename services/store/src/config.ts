import { availableParallelism } from 'node:os';
import { readBusConfig, type BusConfig } from '@mamori/bus';
import { createEnvReader, DEFAULT_DATA_DIR } from '@mamori/common';
import { Topics } from '@mamori/proto';
import { readWarehouseConfig, type WarehouseConfig } from '@mamori/warehouse';

export interface StoreConfig {
  bus: BusConfig;
  warehouse: WarehouseConfig;
  /** Consumer group of every store replica. */
  groupId: string;
  topics: { events: string; agents: string; alerts: string };
  /** Partitions of the events topic when the store creates it (same default as ingest). */
  eventPartitions: number;
  batch: {
    /** Records buffered before a flush, across partitions. */
    maxRecords: number;
    /** Bytes of record values buffered before a flush. */
    maxBytes: number;
    /** Longest a record waits in the buffer, in ms. */
    flushMs: number;
    /** Inserts running at once per topic. */
    insertsInFlight: number;
  };
  /** Whether rows of events are made on a worker thread rather than the consuming thread. */
  encoderThread: boolean;
  /** Backoff between failed inserts, in ms (exponential with full jitter). */
  retry: { initialMs: number; maxMs: number };
  /** Where /healthz, /readyz and /metrics are served (HTTP). */
  ops: { host: string; port: number };
}

const MiB = 1024 * 1024;

/**
 * Store's configuration from environment variables, validated, all problems reported at
 * once. See the README's configuration reference for each variable.
 * @throws MamoriError Config listing every problem.
 */
export function readStoreConfig(env: NodeJS.ProcessEnv = process.env): Readonly<StoreConfig> {
  const read = createEnvReader(env);
  const dataDir = read.string('MAMORI_DATA_DIR', DEFAULT_DATA_DIR);
  const bus = readBusConfig(read, { dataDir, service: 'store' });
  const config: StoreConfig = {
    bus,
    warehouse: readWarehouseConfig(read, { dataDir }),
    groupId: read.string('MAMORI_STORE_GROUP', 'mamori-store'),
    topics: {
      events: read.string('MAMORI_TOPIC_EVENTS', Topics.events),
      agents: read.string('MAMORI_TOPIC_AGENTS', Topics.agents),
      alerts: read.string('MAMORI_TOPIC_ALERTS', Topics.alerts),
    },
    eventPartitions: read.int('MAMORI_EVENTS_PARTITIONS', bus.kind === 'kafka' ? 12 : 4, {
      min: 1,
      max: 10_000,
    }),
    batch: {
      // 100,000 events: chDB spent ~7 µs of CPU per row on 50k–200k-row inserts and 11–15 µs
      // on 20k-row ones (more parts, more merges; measured, packages/warehouse/README.md).
      maxRecords: read.int('MAMORI_STORE_BATCH_EVENTS', 100_000, { min: 1, max: 1_000_000 }),
      // 64 MiB of records (~150k typical events) bounds memory when events are unusually
      // large; a few batches (inserting and filling) are held at most.
      maxBytes: read.int('MAMORI_STORE_BATCH_BYTES', 64 * MiB, { min: 1024, max: 1024 * MiB }),
      // 1 s: an event is queryable within about a second and a half at full load (bench:e2e
      // visible lag p99 1.3–1.4 s) while batches stay large enough to be cheap to insert.
      flushMs: read.int('MAMORI_STORE_FLUSH_MS', 1000, { min: 1, max: 600_000 }),
      // 2: the next batch's insert starts while ClickHouse still writes the previous one
      // (chDB parses and writes one insert on one thread; measured in packages/warehouse).
      insertsInFlight: read.int('MAMORI_STORE_INSERTS_IN_FLIGHT', 2, { min: 1, max: 16 }),
    },
    // Making a row costs ~4.4 µs per event; on a worker thread it leaves the thread that, in
    // `mamori start`, also runs ingest and the API. On by default with more than two cores: on
    // two, ingest then outpaces what chDB can store and stored events/s stay the same
    // (measured with bench:e2e), while the visible lag grows a little.
    encoderThread: read.bool('MAMORI_STORE_ENCODER_THREAD', availableParallelism() > 2),
    retry: {
      initialMs: read.int('MAMORI_STORE_RETRY_INITIAL_MS', 200, { min: 1, max: 600_000 }),
      // 30 s: a ClickHouse back from an outage is found within half a minute.
      maxMs: read.int('MAMORI_STORE_RETRY_MAX_MS', 30_000, { min: 1, max: 3_600_000 }),
    },
    ops: {
      // Loopback like ingest's and the API's: probes and scrapes come from the same host or pod.
      host: read.string('MAMORI_STORE_OPS_HOST', '127.0.0.1'),
      // 9465: beside ingest's 9464, so both run on one host with their defaults.
      port: read.int('MAMORI_STORE_OPS_PORT', 9465, { min: 0, max: 65_535 }),
    },
  };
  if (config.retry.maxMs < config.retry.initialMs) {
    read.problem('MAMORI_STORE_RETRY_MAX_MS: must be at least MAMORI_STORE_RETRY_INITIAL_MS');
  }
  read.done();
  return Object.freeze(config);
}
