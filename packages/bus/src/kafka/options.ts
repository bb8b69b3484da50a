import type { ConnectionOptions } from 'node:tls';
import { ErrorCode, MamoriError, type BackoffOptions, type Logger } from '@mamori/common';

/** SASL credentials, passed to the client as they are and never logged. */
export interface KafkaSaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** Options of the Kafka bus. Timeouts are in ms. */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[];
  /** Names this process to the brokers (quotas, logs). @default 'mamori' */
  clientId?: string;
  /** TLS: `true` for the system CAs, or Node TLS options (CA, client certificate). @default off */
  ssl?: boolean | ConnectionOptions;
  /** SASL authentication; requires `ssl` unless the listener is SASL_PLAINTEXT. @default none */
  sasl?: KafkaSaslOptions;
  /** Where the client's own logs go (kafkajs is bridged to it). @default silent */
  logger?: Logger;
  /** TCP connect timeout per broker. @default 3000 (loaded CI machines miss kafkajs's 1000) */
  connectionTimeoutMs?: number;
  /** Timeout of one request to a broker. @default 30000 */
  requestTimeoutMs?: number;
  /**
   * Retries of a failed request (produce, admin, commit) before the error reaches the caller,
   * with exponential backoff from 100 ms: 5 retries give up after about 3 s.
   * @default 5
   */
  retries?: number;
  /**
   * A consumer that sends no heartbeat for this long is removed from its group. Brokers accept
   * 6000–1800000 by default (group.min/max.session.timeout.ms).
   * @default 10000
   */
  sessionTimeoutMs?: number;
  /**
   * How often a consumer heartbeats; it is also how soon a running consumer notices a
   * rebalance, so it bounds how long a joining or leaving member waits for the others.
   * Must be below sessionTimeoutMs. @default 1000
   */
  heartbeatIntervalMs?: number;
  /**
   * How long the group coordinator waits for every member to rejoin during a rebalance; a
   * member stuck in a handler longer than this is dropped from the group. @default 30000
   */
  rebalanceTimeoutMs?: number;
  /**
   * Longest a fetch waits on the broker for new records. Heartbeats are sent between fetches,
   * so this also delays rebalances of an idle consumer. @default 500
   */
  maxWaitMs?: number;
  /** Most bytes fetched from one partition per request. @default 1048576 (Kafka's default) */
  maxBytesPerPartition?: number;
  /** Delay before a batch whose handler threw is delivered again. @default { initialMs: 200, maxMs: 10000 } */
  redeliveryBackoff?: BackoffOptions;
  /**
   * Concurrent `produce` calls are merged into one request while another is in flight, up to
   * this many bytes of keys, values and headers. Stays under the broker's message.max.bytes
   * (1 MiB by default), which bounds the records of one partition in one request. @default 1000000
   */
  maxProduceRequestBytes?: number;
  /** How long the partition count of a topic is cached for keyed produces. @default 30000 */
  metadataMaxAgeMs?: number;
  /**
   * Produce from this many worker threads (see producer-thread.ts), so that kafkajs's record
   * encoding neither competes with the producing service for its thread nor is bound to one
   * core; 0 produces on the calling thread. With threads the other options must be cloneable
   * (no functions in `ssl`). @default 0
   */
  producerThreads?: number;
}

/** KafkaBusOptions with every default applied. */
export interface ResolvedKafkaBusOptions {
  brokers: string[];
  clientId: string;
  ssl: boolean | ConnectionOptions | undefined;
  sasl: KafkaSaslOptions | undefined;
  logger: Logger | undefined;
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  retries: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitMs: number;
  maxBytesPerPartition: number;
  redeliveryBackoff: Required<Pick<BackoffOptions, 'initialMs' | 'maxMs'>> & BackoffOptions;
  maxProduceRequestBytes: number;
  metadataMaxAgeMs: number;
  producerThreads: number;
}

/**
 * Applies defaults and checks the options, reporting every problem at once.
 * @throws MamoriError Config when an option is invalid.
 */
export function resolveKafkaBusOptions(options: KafkaBusOptions): ResolvedKafkaBusOptions {
  const problems: string[] = [];
  const brokers = [...options.brokers].map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) problems.push('brokers: at least one host:port is required');
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(broker)) {
      problems.push(`brokers: ${JSON.stringify(broker)} is not host:port`);
    }
  }
  const int = (
    name: keyof KafkaBusOptions,
    value: number | undefined,
    fallback: number,
    min: number,
  ): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min)
      problems.push(`${name}: must be an integer >= ${min}, got ${value}`);
    return value;
  };
  const resolved: ResolvedKafkaBusOptions = {
    brokers,
    clientId: options.clientId ?? 'mamori',
    ssl: options.ssl,
    sasl: options.sasl,
    logger: options.logger,
    connectionTimeoutMs: int('connectionTimeoutMs', options.connectionTimeoutMs, 3_000, 1),
    requestTimeoutMs: int('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1),
    retries: int('retries', options.retries, 5, 0),
    sessionTimeoutMs: int('sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 1),
    heartbeatIntervalMs: int('heartbeatIntervalMs', options.heartbeatIntervalMs, 1_000, 1),
    rebalanceTimeoutMs: int('rebalanceTimeoutMs', options.rebalanceTimeoutMs, 30_000, 1),
    maxWaitMs: int('maxWaitMs', options.maxWaitMs, 500, 0),
    maxBytesPerPartition: int('maxBytesPerPartition', options.maxBytesPerPartition, 1_048_576, 1),
    redeliveryBackoff: { initialMs: 200, maxMs: 10_000, ...options.redeliveryBackoff },
    maxProduceRequestBytes: int(
      'maxProduceRequestBytes',
      options.maxProduceRequestBytes,
      1_000_000,
      1,
    ),
    metadataMaxAgeMs: int('metadataMaxAgeMs', options.metadataMaxAgeMs, 30_000, 0),
    producerThreads: int('producerThreads', options.producerThreads, 0, 0),
  };
  if (resolved.heartbeatIntervalMs >= resolved.sessionTimeoutMs) {
    problems.push(
      `heartbeatIntervalMs (${resolved.heartbeatIntervalMs}) must be below sessionTimeoutMs (${resolved.sessionTimeoutMs})`,
    );
  }
  if (
    options.sasl &&
    !['plain', 'scram-sha-256', 'scram-sha-512'].includes(options.sasl.mechanism)
  ) {
    problems.push(
      `sasl.mechanism: ${JSON.stringify(options.sasl.mechanism)} is not plain, scram-sha-256 or scram-sha-512`,
    );
  }
  if (problems.length > 0) {
    throw new MamoriError(ErrorCode.Config, `invalid Kafka bus options: ${problems.join('; ')}`, {
      context: { problems: problems.length },
    });
  }
  return resolved;
}
