import {
  backoffDelay,
  createSilentLogger,
  ErrorCode,
  MamoriError,
  sleep,
  type Logger,
} from '@mamori/common';
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
import { AdminSlot } from './admin-slot.js';
import { closedError, isTransientKafkaError, kafkaErrorTypes, toMamoriError } from './errors.js';
import { createLogBridge, kafkaJsLogLevel } from './log-bridge.js';
import {
  resolveKafkaBusOptions,
  type KafkaBusOptions,
  type KafkaSaslOptions,
  type ResolvedKafkaBusOptions,
} from './options.js';
import { NOT_VISIBLE_YET, visibleTopicMetadata } from './metadata.js';
import { checkRecord, ProduceQueue } from './producer.js';
import { ProducerPool } from './producer-thread.js';

/** Kafka's rule for topic names (legal characters and length). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** A TopicSpec's retention when it names none: 7 days, no size limit (Kafka's defaults). */
const DEFAULT_RETENTION_MS = 604_800_000;
const DEFAULT_RETENTION_BYTES = -1;
/** What creating topics may end with when the topics exist, or will in a moment. */
const CREATED_NOT_VISIBLE = new Set(['TOPIC_ALREADY_EXISTS', ...NOT_VISIBLE_YET]);

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
  /** With producerThreads: where produce calls go instead of #producer. */
  readonly #thread: ProducerPool | undefined;
  readonly #consumers = new Set<KafkaGroupConsumer>();
  /**
   * Topic metadata and creation. Its calls name their topics explicitly, so kafkajs never makes
   * this client follow a topic (which #withTopic has to deal with for offsets).
   */
  readonly #metadataAdmin: AdminSlot;
  /** Offsets and commits; retried by #withTopic rather than by kafkajs. */
  readonly #offsetsAdmin: AdminSlot;
  readonly #partitionCounts = new Map<string, { count: number; at: number }>();
  readonly #partitionLookups = new Map<string, Promise<number>>();
  #closed = false;
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
    this.#metadataAdmin = new AdminSlot(this.#kafka, options.retries, this.#log);
    this.#offsetsAdmin = new AdminSlot(this.#kafka, 0, this.#log);
    this.#thread =
      options.producerThreads > 0
        ? createProducerPool(options, (topic) => this.#partitionCount(topic, false), this.#log)
        : undefined;
    this.#producer = new ProduceQueue({
      kafka: this.#kafka,
      options,
      log: this.#log,
      partitionCount: (topic, fresh) => this.#partitionCount(topic, fresh ?? false),
      missingTopics: (topics) =>
        this.#metadataAdmin
          .run(async (admin) => {
            const existing = new Set(await admin.listTopics());
            return topics.filter((t) => !existing.has(t));
          })
          .catch((err: unknown) => {
            throw toMamoriError(err, 'could not list topics');
          }),
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
    await this.#metadataAdmin
      .run(async (admin) => {
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
                  { name: 'cleanup.policy', value: spec.cleanupPolicy },
                  { name: 'retention.ms', value: String(spec.retentionMs) },
                  { name: 'retention.bytes', value: String(spec.retentionBytes) },
                ],
              })),
            });
          } catch (err) {
            // Another process may have created some of them meanwhile; that is success. So is
            // a topic created whose metadata the broker does not serve yet (kafkajs's wait for
            // leaders gives up on UNKNOWN_TOPIC_OR_PARTITION): the wait below goes on.
            const types = kafkaErrorTypes(err);
            if (types.length === 0 || types.some((t) => !CREATED_NOT_VISIBLE.has(t))) {
              throw toMamoriError(err, 'could not create topics', {
                topics: missing.map((s) => s.topic).join(','),
              });
            }
          }
        }
        // Waits out new topics' metadata and leaders, and primes the partition cache.
        const metadata = await visibleTopicMetadata(
          admin,
          [...wanted.keys()],
          this.#options.requestTimeoutMs,
        );
        for (const topic of metadata.topics) {
          this.#partitionCounts.set(topic.name, { count: topic.partitions.length, at: Date.now() });
        }
      })
      .catch((err: unknown) => {
        throw toMamoriError(err, 'could not ensure topics', {
          topics: [...wanted.keys()].join(','),
        });
      });
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    this.#assertOpen('produce');
    checkTopicName(topic);
    if (this.#thread) {
      records.forEach((record, index) => checkRecord(topic, index, record));
      return this.#thread.produce(topic, records);
    }
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
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new MamoriError(ErrorCode.Validation, 'group id must be a non-empty string', {
        context: { topic, field: 'groupId' },
      });
    }
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
    await Promise.all([this.#producer.close(), this.#thread?.close()]);
    await Promise.all([this.#metadataAdmin.close(), this.#offsetsAdmin.close()]);
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw closedError(operation);
  }

  /** Partition count of a topic, cached for metadataMaxAgeMs. */
  #partitionCount(topic: string, fresh: boolean): Promise<number> {
    const cached = this.#partitionCounts.get(topic);
    if (!fresh && cached && Date.now() - cached.at < this.#options.metadataMaxAgeMs) {
      return Promise.resolve(cached.count);
    }
    let lookup = this.#partitionLookups.get(topic);
    if (!lookup) {
      lookup = this.#metadataAdmin
        .run((admin) => this.#requireTopic(admin, topic))
        .catch((err: unknown) => {
          throw toMamoriError(err, 'could not read topic metadata', { topic });
        })
        .finally(() => this.#partitionLookups.delete(topic));
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
      if (count === 0) {
        throw new MamoriError(ErrorCode.BusTopic, 'topic does not exist', { context: { topic } });
      }
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
   * Runs an offsets call about one topic, after checking that the topic exists (so that a
   * missing topic is a quick BusTopic). Transient errors are retried here with backoff.
   */
  async #withTopic<T>(
    topic: string,
    fn: (admin: Admin) => Promise<T>,
    message: string,
  ): Promise<T> {
    await this.#partitionCount(topic, true);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#offsetsAdmin.run(fn);
      } catch (err) {
        // kafkajs makes an admin client follow every topic it was asked offsets of, refreshes
        // metadata for all of them, and fails every call once one was deleted elsewhere. A new
        // client follows only the topics asked about from now on.
        const stale = kafkaErrorTypes(err).includes('UNKNOWN_TOPIC_OR_PARTITION');
        if (stale) {
          this.#offsetsAdmin.reset();
          await this.#partitionCount(topic, true);
        }
        if (attempt >= this.#options.retries || !(stale || isTransientKafkaError(err))) {
          throw toMamoriError(err, message, { topic });
        }
        if (!stale) await sleep(backoffDelay(attempt, { initialMs: 100, maxMs: 2_000 }));
      }
    }
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
    cleanupPolicy: spec.cleanupPolicy ?? 'delete',
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
  if (resolved.cleanupPolicy !== 'delete' && resolved.cleanupPolicy !== 'compact')
    throw invalid('cleanupPolicy');
  return resolved;
}

/**
 * The producer threads of a bus, started with the options that can cross threads.
 * @throws MamoriError Config when an option cannot be cloned to another thread.
 */
function createProducerPool(
  options: ResolvedKafkaBusOptions,
  partitionCount: (topic: string) => Promise<number>,
  log: Logger,
): ProducerPool {
  const { logger, producerThreads, redeliveryBackoff: _backoff, ...rest } = options;
  const setup = { options: rest, ...(logger ? { logLevel: logger.level } : {}) };
  try {
    structuredClone(setup);
  } catch (err) {
    throw new MamoriError(
      ErrorCode.Config,
      'producerThreads: the Kafka options cannot be sent to a thread (functions in ssl?)',
      { cause: err },
    );
  }
  return new ProducerPool(setup, producerThreads, partitionCount, log);
}
