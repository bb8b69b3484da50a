import { createSilentLogger, ErrorCode, MamoriError, type Logger } from '@mamori/common';
import { Kafka, type Admin, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type {
  Bus,
  Consumer,
  ConsumerOptions,
  PartitionOffsets,
  ProduceRecord,
  ProduceResult,
  TopicPartitionOffset,
  TopicSpec,
} from '../types.js';
import { KafkaGroupConsumer } from './consumer.js';
import { closedError, kafkaErrorTypes, toMamoriError } from './errors.js';
import { createLogBridge, kafkaJsLogLevel } from './log-bridge.js';
import {
  resolveKafkaBusOptions,
  type KafkaBusOptions,
  type KafkaSaslOptions,
  type ResolvedKafkaBusOptions,
} from './options.js';
import { disconnectQuietly, ProduceQueue } from './producer.js';

/** Kafka's rule for topic names (legal characters and length). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** A TopicSpec's retention when it names none: 7 days, no size limit (Kafka's defaults). */
const DEFAULT_RETENTION_MS = 604_800_000;
const DEFAULT_RETENTION_BYTES = -1;

/**
 * The bus on Apache Kafka, through kafkajs. Connections are opened on first use; one
 * idempotent producer and one admin client are shared by the whole bus, and each consumer has
 * its own connections.
 * @throws MamoriError Config when the options are invalid.
 */
export function createKafkaBus(options: KafkaBusOptions): Bus {
  return new KafkaBus(resolveKafkaBusOptions(options));
}

class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly #options: ResolvedKafkaBusOptions;
  readonly #log: Logger;
  readonly #kafka: Kafka;
  readonly #producer: ProduceQueue;
  readonly #consumers = new Set<KafkaGroupConsumer>();
  #admin: Promise<Admin> | undefined;
  /** Admin calls run one at a time: kafkajs's admin keeps one metadata snapshot that concurrent calls overwrite. */
  #adminQueue: Promise<unknown> = Promise.resolve();
  readonly #partitionCounts = new Map<string, { count: number; at: number }>();
  readonly #partitionLookups = new Map<string, Promise<number>>();
  #closed = false;
  /** Set once close() has let go of the admin client, which must then not come back. */
  #released = false;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedKafkaBusOptions) {
    this.#options = options;
    this.#log = (options.logger ?? createSilentLogger()).child({ bus: 'kafka' });
    const config: KafkaConfig = {
      brokers: options.brokers,
      clientId: options.clientId,
      connectionTimeout: options.connectionTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      retry: { retries: options.retries },
      logLevel: kafkaJsLogLevel(options.logger),
      logCreator: createLogBridge(options.logger ? this.#log : undefined),
    };
    if (options.ssl !== undefined) config.ssl = options.ssl;
    if (options.sasl !== undefined) config.sasl = toKafkaJsSasl(options.sasl);
    this.#kafka = new Kafka(config);
    this.#producer = new ProduceQueue({
      kafka: this.#kafka,
      options,
      log: this.#log,
      partitionCount: (topic, fresh) => this.#partitionCount(topic, fresh ?? false),
    });
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    this.#assertOpen('ensureTopics');
    const wanted = new Map<string, Required<TopicSpec>>();
    for (const spec of specs) {
      const resolved = resolveTopicSpec(spec);
      if (!wanted.has(resolved.topic)) wanted.set(resolved.topic, resolved);
    }
    if (wanted.size === 0) return;
    await this.#withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = [...wanted.values()].filter((spec) => !existing.has(spec.topic));
      if (missing.length > 0) {
        try {
          await admin.createTopics({
            waitForLeaders: true,
            timeout: this.#options.requestTimeoutMs,
            topics: missing.map((spec) => ({
              topic: spec.topic,
              numPartitions: spec.partitions,
              configEntries: [
                { name: 'retention.ms', value: String(spec.retentionMs) },
                { name: 'retention.bytes', value: String(spec.retentionBytes) },
              ],
            })),
          });
        } catch (err) {
          // Another process may have created some of them meanwhile; that is success.
          const types = kafkaErrorTypes(err);
          if (types.length === 0 || types.some((t) => t !== 'TOPIC_ALREADY_EXISTS')) {
            throw toMamoriError(err, 'could not create topics', {
              topics: missing.map((s) => s.topic).join(','),
            });
          }
        }
      }
      // Waits out LEADER_NOT_AVAILABLE on new topics, and primes the partition cache.
      const metadata = await admin.fetchTopicMetadata({ topics: [...wanted.keys()] });
      for (const topic of metadata.topics) {
        this.#partitionCounts.set(topic.name, { count: topic.partitions.length, at: Date.now() });
      }
    }, 'could not ensure topics');
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    this.#assertOpen('produce');
    checkTopicName(topic);
    return this.#producer.produce(topic, records);
  }

  consumer(options: ConsumerOptions): Consumer {
    this.#assertOpen('consumer');
    const consumer = new KafkaGroupConsumer(options, {
      kafka: this.#kafka,
      options: this.#options,
      log: this.#log,
      onClosed: (c) => this.#consumers.delete(c),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    this.#assertOpen('offsets');
    checkTopicName(topic);
    const offsets = await this.#withTopic(
      topic,
      (admin) => admin.fetchTopicOffsets(topic),
      'could not read topic offsets',
    );
    return offsets
      .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async committed(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    this.#assertOpen('committed');
    checkTopicName(topic);
    const response = await this.#withTopic(
      topic,
      (admin) => admin.fetchOffsets({ groupId, topics: [topic] }),
      'could not read committed offsets',
    );
    return response
      .flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topic,
          partition: p.partition,
          offset: Number(p.offset),
        })),
      )
      .filter((o) => o.offset >= 0)
      .sort((a, b) => a.partition - b.partition);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const consumers = [...this.#consumers];
    await Promise.all(
      consumers.map(async (c) => {
        await c.close();
        await c.whenLeft();
      }),
    );
    await this.#producer.close();
    this.#released = true;
    const admin = this.#admin;
    this.#admin = undefined;
    await this.#adminQueue.catch(() => undefined);
    if (admin)
      await admin.then(
        (a) => disconnectQuietly(a, this.#log),
        () => undefined,
      );
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw closedError(operation);
  }

  /** Partition count of a topic, cached for metadataMaxAgeMs. */
  #partitionCount(topic: string, fresh: boolean): Promise<number> {
    const cached = this.#partitionCounts.get(topic);
    if (!fresh && cached && Date.now() - cached.at < this.#options.metadataMaxAgeMs)
      return Promise.resolve(cached.count);
    let lookup = this.#partitionLookups.get(topic);
    if (!lookup) {
      lookup = this.#withAdmin(
        (admin) => this.#requireTopic(admin, topic),
        'could not read topic metadata',
      ).finally(() => this.#partitionLookups.delete(topic));
      this.#partitionLookups.set(topic, lookup);
    }
    return lookup;
  }

  /**
   * Partition count of a topic, straight from the brokers.
   * @throws MamoriError BusTopic when the topic does not exist.
   */
  async #requireTopic(admin: Admin, topic: string): Promise<number> {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (count === 0)
        throw new MamoriError(ErrorCode.BusTopic, 'topic does not exist', { context: { topic } });
      this.#partitionCounts.set(topic, { count, at: Date.now() });
      return count;
    } catch (err) {
      if (kafkaErrorTypes(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) {
        this.#partitionCounts.delete(topic);
        throw new MamoriError(ErrorCode.BusTopic, 'topic does not exist', {
          cause: err,
          context: { topic },
        });
      }
      throw err;
    }
  }

  /**
   * Runs an admin call about one existing topic. kafkajs's admin refreshes metadata for every
   * topic it was ever asked about and fails once one of them is deleted elsewhere; on that
   * error the admin client is replaced and the call made once more.
   */
  #withTopic<T>(topic: string, fn: (admin: Admin) => Promise<T>, message: string): Promise<T> {
    return this.#withAdmin(
      async (admin) => {
        await this.#requireTopic(admin, topic);
        try {
          return await fn(admin);
        } catch (err) {
          if (!kafkaErrorTypes(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) throw err;
          this.#log.debug(
            { topic, err },
            'admin call failed on stale topic metadata; retrying with a new admin client',
          );
          this.#resetAdmin();
          const fresh = await this.#connectAdmin();
          await this.#requireTopic(fresh, topic);
          return await fn(fresh);
        }
      },
      message,
      { topic },
    );
  }

  /** Runs admin calls one at a time, mapping their errors. */
  #withAdmin<T>(
    fn: (admin: Admin) => Promise<T>,
    message: string,
    context: Record<string, string> = {},
  ): Promise<T> {
    const run = this.#adminQueue.then(async () => {
      try {
        return await fn(await this.#connectAdmin());
      } catch (err) {
        throw toMamoriError(err, message, context);
      }
    });
    this.#adminQueue = run.catch(() => undefined);
    return run;
  }

  #connectAdmin(): Promise<Admin> {
    if (this.#admin) return this.#admin;
    if (this.#released) return Promise.reject(closedError('admin'));
    const admin = this.#kafka.admin({ retry: { retries: this.#options.retries } });
    const connecting = admin.connect().then(
      () => admin,
      async (err: unknown) => {
        if (this.#admin === connecting) this.#admin = undefined;
        await disconnectQuietly(admin, this.#log);
        throw err;
      },
    );
    this.#admin = connecting;
    return connecting;
  }

  #resetAdmin(): void {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin)
      void admin.then(
        (a) => disconnectQuietly(a, this.#log),
        () => undefined,
      );
  }
}

function toKafkaJsSasl(sasl: KafkaSaslOptions): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

function checkTopicName(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new MamoriError(ErrorCode.BusTopic, 'invalid topic name', {
      context: { topic: String(topic) },
    });
  }
}

/**
 * A TopicSpec with its defaults, checked.
 * @throws MamoriError BusTopic when the spec is invalid.
 */
function resolveTopicSpec(spec: TopicSpec): Required<TopicSpec> {
  checkTopicName(spec.topic);
  const resolved = {
    topic: spec.topic,
    partitions: spec.partitions ?? 1,
    retentionMs: spec.retentionMs ?? DEFAULT_RETENTION_MS,
    retentionBytes: spec.retentionBytes ?? DEFAULT_RETENTION_BYTES,
  };
  const invalid = (field: string): MamoriError =>
    new MamoriError(ErrorCode.BusTopic, 'invalid topic spec', {
      context: { topic: spec.topic, field },
    });
  if (!Number.isInteger(resolved.partitions) || resolved.partitions < 1)
    throw invalid('partitions');
  if (!Number.isSafeInteger(resolved.retentionMs) || resolved.retentionMs < -1)
    throw invalid('retentionMs');
  if (!Number.isSafeInteger(resolved.retentionBytes) || resolved.retentionBytes < -1)
    throw invalid('retentionBytes');
  return resolved;
}
