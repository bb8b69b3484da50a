import { readFileSync } from 'node:fs';
import { createEnvReader, DEFAULT_DATA_DIR, ErrorCode, MamoriError } from '@mamori/common';
import { readBusConfig, type BusConfig } from '@mamori/bus';
import { Topics } from '@mamori/proto';
import { createTokenRegistry, loadTokenFile, type TokenRegistry } from './auth/tokens.js';
import type { ValidationLimits } from './validation/batch.js';

export interface IngestConfig {
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  /** Where /healthz, /readyz and /metrics are served (HTTP). */
  ops: { host: string; port: number };
  tokens: TokenRegistry;
  bus: BusConfig;
  topics: { events: string; rejected: string; agents: string; policies: string };
  /**
   * How long start waits to have read the policies topic up to date before serving, in ms;
   * after that agents are served, and sent policies once the topic is read.
   */
  policySyncTimeoutMs: number;
  /** Between status records of an agent that stays connected, in ms. */
  agentHeartbeatMs: number;
  /** Partitions of the events topic when ingest creates it. */
  eventPartitions: number;
  limits: ValidationLimits & {
    maxMessageBytes: number;
    maxEventBytes: number;
    maxInFlightBatches: number;
    maxInFlightEvents: number;
    helloTimeoutMs: number;
  };
  retryAfterMs: number;
}

const MiB = 1024 * 1024;

/**
 * Ingest's configuration from environment variables, validated, all problems reported at
 * once. See the README's configuration reference for each variable.
 * @throws MamoriError Config listing every problem.
 */
export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): Readonly<IngestConfig> {
  const read = createEnvReader(env);
  const dataDir = read.string('MAMORI_DATA_DIR', DEFAULT_DATA_DIR);
  const host = read.string('MAMORI_INGEST_HOST', '127.0.0.1');
  const port = read.int('MAMORI_INGEST_PORT', 7070, { min: 0, max: 65_535 });
  const certPath = read.optionalString('MAMORI_INGEST_TLS_CERT');
  const keyPath = read.optionalString('MAMORI_INGEST_TLS_KEY');
  if ((certPath === undefined) !== (keyPath === undefined)) {
    read.problem('MAMORI_INGEST_TLS_CERT and MAMORI_INGEST_TLS_KEY: set both or neither');
  }
  let tls: IngestConfig['tls'];
  if (certPath && keyPath) {
    try {
      tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
    } catch (err) {
      read.problem(`MAMORI_INGEST_TLS_CERT/KEY: cannot read (${(err as Error).message})`);
    }
  }

  let tokens: TokenRegistry | undefined;
  const tokensFile = read.optionalString('MAMORI_INGEST_TOKENS_FILE');
  const tokensInline = read.optionalString('MAMORI_INGEST_TOKENS');
  try {
    if (tokensFile) tokens = loadTokenFile(tokensFile);
    else if (tokensInline)
      tokens = createTokenRegistry(JSON.parse(tokensInline), 'MAMORI_INGEST_TOKENS');
    else
      read.problem(
        'MAMORI_INGEST_TOKENS_FILE or MAMORI_INGEST_TOKENS: agent credentials are required',
      );
  } catch (err) {
    read.problem(
      err instanceof MamoriError ? err.message : `MAMORI_INGEST_TOKENS: ${(err as Error).message}`,
    );
  }

  const bus = readBusConfig(read, { dataDir, service: 'ingest' });
  const config: IngestConfig = {
    host,
    port,
    ops: {
      // Loopback like the gRPC port: probes and scrapes come from the same host or pod.
      host: read.string('MAMORI_INGEST_OPS_HOST', '127.0.0.1'),
      // 9464: the port the Prometheus exporters' port registry gives OpenTelemetry's
      // exporter, so scrape configs find it; the store takes 9465 beside it.
      port: read.int('MAMORI_INGEST_OPS_PORT', 9464, { min: 0, max: 65_535 }),
    },
    ...(tls ? { tls } : {}),
    tokens: tokens!,
    bus,
    topics: {
      events: read.string('MAMORI_TOPIC_EVENTS', Topics.events),
      rejected: read.string('MAMORI_TOPIC_EVENTS_REJECTED', Topics.eventsRejected),
      agents: read.string('MAMORI_TOPIC_AGENTS', Topics.agents),
      policies: read.string('MAMORI_TOPIC_POLICIES', Topics.policies),
    },
    // 30 s: the policies topic holds one record per policy version (compacted on Kafka), read
    // in well under a second; a bus that takes longer is unwell, and agents keep their sets.
    policySyncTimeoutMs: read.int('MAMORI_INGEST_POLICY_SYNC_TIMEOUT_MS', 30_000, {
      min: 0,
      max: 600_000,
    }),
    // 30 s: well inside the API's "connected" window (MAMORI_API_AGENT_CONNECTED_SECONDS,
    // 300 s), and one small record per agent per 30 s is nothing next to its events.
    agentHeartbeatMs: read.int('MAMORI_INGEST_AGENT_HEARTBEAT_MS', 30_000, {
      min: 100,
      max: 3_600_000,
    }),
    eventPartitions: read.int('MAMORI_EVENTS_PARTITIONS', bus.kind === 'kafka' ? 12 : 4, {
      min: 1,
      max: 10_000,
    }),
    limits: {
      maxMessageBytes: read.int('MAMORI_INGEST_MAX_MESSAGE_BYTES', 8 * MiB, {
        min: 64 * 1024,
        max: 256 * MiB,
      }),
      maxEventBytes: read.int('MAMORI_INGEST_MAX_EVENT_BYTES', 256 * 1024, {
        min: 1024,
        max: 16 * MiB,
      }),
      maxBatchEvents: read.int('MAMORI_INGEST_MAX_BATCH_EVENTS', 5000, { min: 1, max: 1_000_000 }),
      maxInFlightBatches: read.int('MAMORI_INGEST_MAX_INFLIGHT_BATCHES', 8, { min: 1, max: 1024 }),
      maxInFlightEvents: read.int('MAMORI_INGEST_MAX_INFLIGHT_EVENTS', 200_000, {
        min: 1,
        max: 100_000_000,
      }),
      helloTimeoutMs: read.int('MAMORI_INGEST_HELLO_TIMEOUT_MS', 10_000, { min: 100 }),
      maxIdLength: 128,
      maxLabels: 64,
      maxFutureMicros: read.int('MAMORI_INGEST_MAX_CLOCK_SKEW_MS', 5 * 60_000, { min: 0 }) * 1000,
      maxAgeMicros:
        read.int('MAMORI_INGEST_MAX_EVENT_AGE_MS', 7 * 24 * 3_600_000, { min: 1000 }) * 1000,
    },
    retryAfterMs: read.int('MAMORI_INGEST_RETRY_AFTER_MS', 1000, { min: 0 }),
  };
  read.done();
  if (!config.tokens) throw new MamoriError(ErrorCode.Config, 'agent credentials are required');
  return Object.freeze(config);
}
