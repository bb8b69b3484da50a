import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ErrorCode,
  MamoriError,
  createSilentLogger,
  type BackoffOptions,
  type Logger,
} from '@mamori/common';
import { partitionForKey } from '../partitioner.js';
import type {
  Bus,
  BusRecord,
  Consumer,
  ConsumerOptions,
  PartitionOffsets,
  ProduceRecord,
  ProduceResult,
  TopicPartitionOffset,
  TopicSpec,
} from '../types.js';
import { EmbeddedConsumer, GroupCoordinator, type ConsumerHost } from './consumer-group.js';
import { fsyncDirectory } from './fs-util.js';
import { acquireLock, type DirectoryLock } from './lock-file.js';
import { OffsetStore } from './offset-store.js';
import { PartitionLog, ProduceTicket } from './partition-log.js';
import { encodeFrame, frameSize, type HeaderCache } from './record-format.js';
import {
  DEFAULT_RETENTION_MS,
  readTopicMeta,
  topicMetaFromSpec,
  validateTopicName,
  writeTopicMeta,
  type TopicMeta,
} from './topic-meta.js';

/** Options of `createEmbeddedBus`. */
export interface EmbeddedBusOptions {
  /** Directory of the log, created if missing. One bus (one process) uses it at a time. */
  dir: string;
  /**
   * Size at which a partition starts a new segment file, in bytes. Retention deletes whole
   * segments, so this is also its granularity.
   * @default 67108864 (64 MiB)
   */
  segmentBytes?: number;
  /**
   * fsync before acknowledging a produce or a commit. UNSAFE when false: an acknowledged record
   * can be lost in a power failure or kernel crash (not in a process crash). Only for tests and
   * benchmarks.
   * @default true
   */
  fsync?: boolean;
  /** Retention of topics whose spec sets none, in ms; -1 for none. @default 604800000 (7 days) */
  defaultRetentionMs?: number;
  /** Size limit per partition of topics whose spec sets none, in bytes; -1 for none. @default -1 */
  defaultRetentionBytes?: number;
  /**
   * How often retention is checked besides at every segment roll, in ms.
   * @default 300000 (5 minutes, Kafka's log.retention.check.interval.ms)
   */
  retentionCheckIntervalMs?: number;
  /**
   * Largest produce call, in bytes as stored (records plus 36 bytes of framing each). A call is
   * written as one buffer, so this bounds the memory one call takes.
   * @default 16777216 (16 MiB)
   */
  maxProduceBytes?: number;
  /**
   * Backoff before a batch whose handler threw is delivered again.
   * @default { initialMs: 100, maxMs: 30000 }
   */
  handlerRetry?: BackoffOptions;
  /** @default a silent logger */
  logger?: Logger;
}

/** The embedded bus: a Bus plus direct reads, for tools and tests. */
export interface EmbeddedBus extends Bus {
  readonly kind: 'embedded';
  readonly dir: string;
  /**
   * Reads up to `maxRecords` durable records of one partition from `offset` (or from its first
   * readable offset when `offset` is below it), without a consumer group.
   * @throws MamoriError BusTopic for an unknown topic or partition; BusCorrupt when a record
   *   fails verification; BusClosed after close.
   */
  read(topic: string, partition: number, offset: number, maxRecords?: number): Promise<BusRecord[]>;
}

interface TopicState {
  meta: TopicMeta;
  logs: PartitionLog[];
  /** Next partition for a record without key or partition. */
  roundRobin: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_PRODUCE_BYTES = 16 * 1024 * 1024;
const DEFAULT_RETENTION_CHECK_MS = 300_000;
const TOPIC_META_FILE = 'topic.json';

/**
 * Opens the embedded log in `options.dir` (creating it), recovering every partition and taking
 * the directory's lock.
 * @throws MamoriError BusLocked when another live bus holds the directory; BusCorrupt when
 *   recovery finds damage it must not cut off; Config for invalid options.
 */
export async function createEmbeddedBus(options: EmbeddedBusOptions): Promise<EmbeddedBus> {
  const settings = resolveOptions(options);
  const { dir, logger } = settings;
  await mkdir(join(dir, 'topics'), { recursive: true });
  const lock = await acquireLock(join(dir, 'LOCK'), logger);
  const topics = new Map<string, TopicState>();
  try {
    for (const name of await readdir(join(dir, 'topics'))) {
      const topicDir = join(dir, 'topics', name);
      if (!(await stat(topicDir)).isDirectory()) continue;
      const metaFile = join(topicDir, TOPIC_META_FILE);
      if (!(await exists(metaFile))) {
        logger.warn({ dir: topicDir }, 'ignoring a topic whose creation never completed');
        continue;
      }
      const meta = await readTopicMeta(metaFile);
      topics.set(meta.topic, { meta, logs: await openLogs(settings, meta), roundRobin: 0 });
    }
    const offsets = await OffsetStore.open(join(dir, 'groups'), settings.fsync, logger);
    logger.info({ dir, topics: topics.size }, 'embedded bus opened');
    return new EmbeddedBusImpl(settings, lock, topics, offsets);
  } catch (err) {
    for (const topic of topics.values()) await Promise.all(topic.logs.map((log) => log.close()));
    await lock.release();
    throw err;
  }
}

interface Settings {
  dir: string;
  segmentBytes: number;
  fsync: boolean;
  defaultRetentionMs: number;
  defaultRetentionBytes: number;
  retentionCheckIntervalMs: number;
  maxProduceBytes: number;
  handlerRetry: BackoffOptions;
  logger: Logger;
}

function resolveOptions(options: EmbeddedBusOptions): Settings {
  const settings: Settings = {
    dir: options.dir,
    segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    fsync: options.fsync ?? true,
    defaultRetentionMs: options.defaultRetentionMs ?? DEFAULT_RETENTION_MS,
    defaultRetentionBytes: options.defaultRetentionBytes ?? -1,
    retentionCheckIntervalMs: options.retentionCheckIntervalMs ?? DEFAULT_RETENTION_CHECK_MS,
    maxProduceBytes: options.maxProduceBytes ?? DEFAULT_MAX_PRODUCE_BYTES,
    handlerRetry: options.handlerRetry ?? { initialMs: 100, maxMs: 30_000 },
    logger: options.logger ?? createSilentLogger(),
  };
  const problems: string[] = [];
  if (typeof settings.dir !== 'string' || settings.dir.length === 0) problems.push('dir');
  const positive = ['segmentBytes', 'retentionCheckIntervalMs', 'maxProduceBytes'] as const;
  for (const field of positive) {
    if (!Number.isSafeInteger(settings[field]) || settings[field] <= 0) problems.push(field);
  }
  for (const field of ['defaultRetentionMs', 'defaultRetentionBytes'] as const) {
    const value = settings[field];
    if (value !== -1 && !(Number.isSafeInteger(value) && value > 0)) problems.push(field);
  }
  if (problems.length > 0) {
    throw new MamoriError(ErrorCode.Config, 'invalid embedded bus options', {
      context: { fields: problems.join(',') },
    });
  }
  return settings;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function openLogs(settings: Settings, meta: TopicMeta): Promise<PartitionLog[]> {
  const opened = await Promise.allSettled(
    Array.from({ length: meta.partitions }, (_, partition) =>
      PartitionLog.open({
        topic: meta.topic,
        partition,
        dir: join(settings.dir, 'topics', meta.topic, String(partition)),
        segmentBytes: settings.segmentBytes,
        fsync: settings.fsync,
        retentionMs: meta.retentionMs,
        retentionBytes: meta.retentionBytes,
        logger: settings.logger,
      }),
    ),
  );
  const failed = opened.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    throw failed.reason;
  }
  return opened.map((result) => (result as PromiseFulfilledResult<PartitionLog>).value);
}

class EmbeddedBusImpl implements EmbeddedBus, ConsumerHost {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  readonly logger: Logger;
  readonly offsetStore: OffsetStore;
  readonly handlerRetry: BackoffOptions;
  private readonly settings: Settings;
  private readonly lock: DirectoryLock;
  private readonly topics: Map<string, TopicState>;
  private readonly coordinators = new Map<string, GroupCoordinator>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly retentionTimer: NodeJS.Timeout;
  /** Serializes topic creation. */
  private topicCreation: Promise<void> = Promise.resolve();
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | undefined;

  constructor(
    settings: Settings,
    lock: DirectoryLock,
    topics: Map<string, TopicState>,
    offsets: OffsetStore,
  ) {
    this.settings = settings;
    this.dir = settings.dir;
    this.logger = settings.logger;
    this.handlerRetry = settings.handlerRetry;
    this.lock = lock;
    this.topics = topics;
    this.offsetStore = offsets;
    this.retentionTimer = setInterval(
      () => this.applyRetention(),
      settings.retentionCheckIntervalMs,
    );
    this.retentionTimer.unref();
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    let metas: TopicMeta[];
    try {
      metas = specs.map((spec) =>
        topicMetaFromSpec(spec, {
          retentionMs: this.settings.defaultRetentionMs,
          retentionBytes: this.settings.defaultRetentionBytes,
        }),
      );
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const run = this.topicCreation.then(() => this.createTopics(metas));
    this.topicCreation = run.catch(() => undefined);
    return run;
  }

  private async createTopics(metas: TopicMeta[]): Promise<void> {
    for (const meta of metas) {
      if (this.closing) throw closedError();
      const existing = this.topics.get(meta.topic);
      if (existing !== undefined) {
        if (existing.meta.partitions !== meta.partitions) {
          this.logger.warn(
            { topic: meta.topic, partitions: existing.meta.partitions, requested: meta.partitions },
            'topic exists with other settings; keeping them',
          );
        }
        continue;
      }
      const topicsDir = join(this.dir, 'topics');
      const topicDir = join(topicsDir, meta.topic);
      // Leftovers of a creation that never completed hold no acknowledged record.
      await rm(topicDir, { recursive: true, force: true });
      await mkdir(topicDir, { recursive: true });
      const logs = await openLogs(this.settings, meta);
      try {
        if (this.settings.fsync) await fsyncDirectory(topicDir);
        // The metadata file is written last: a topic exists once it is durable.
        await writeTopicMeta(join(topicDir, TOPIC_META_FILE), meta, this.settings.fsync);
        if (this.settings.fsync) await fsyncDirectory(topicsDir);
      } catch (err) {
        await Promise.all(logs.map((log) => log.close()));
        throw new MamoriError(ErrorCode.BusUnavailable, 'could not create the topic', {
          retriable: true,
          cause: err,
          context: { topic: meta.topic },
        });
      }
      this.topics.set(meta.topic, { meta, logs, roundRobin: 0 });
      this.logger.info({ topic: meta.topic, partitions: meta.partitions }, 'topic created');
    }
  }

  produce(topicName: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (this.closed) return Promise.reject(closedError());
    const topic = this.topics.get(topicName);
    if (topic === undefined) return Promise.reject(unknownTopic(topicName));
    const count = records.length;
    if (count === 0) return Promise.resolve([]);
    const logs = topic.logs;
    const partitionCount = logs.length;
    const partitions = new Int32Array(count);
    const bytesPerPartition = new Float64Array(partitionCount);
    const recordsPerPartition = new Int32Array(partitionCount);
    let total = 0;
    const headerCache: HeaderCache = new Map();
    let lastKey: Buffer | undefined;
    let lastKeyPartition = 0;
    try {
      for (let i = 0; i < count; i++) {
        const record = records[i]!;
        let partition: number;
        if (record.partition !== undefined) {
          partition = record.partition;
          if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
            throw new MamoriError(ErrorCode.BusTopic, 'the topic has no such partition', {
              context: { topic: topicName, partition },
            });
          }
        } else if (record.key != null) {
          // Records of one call often share one key object (one agent's batch): hash it once.
          if (record.key !== lastKey) {
            lastKey = record.key;
            lastKeyPartition = partitionForKey(record.key, partitionCount);
          }
          partition = lastKeyPartition;
        } else {
          partition = topic.roundRobin;
          topic.roundRobin = (partition + 1) % partitionCount;
        }
        const size = frameSize(record, headerCache);
        partitions[i] = partition;
        bytesPerPartition[partition]! += size;
        recordsPerPartition[partition]!++;
        total += size;
      }
    } catch (err) {
      return Promise.reject(asError(err));
    }
    if (total > this.settings.maxProduceBytes) {
      return Promise.reject(
        new MamoriError(ErrorCode.TooLarge, 'the produce call is larger than maxProduceBytes', {
          context: {
            topic: topicName,
            bytes: total,
            maxProduceBytes: this.settings.maxProduceBytes,
          },
        }),
      );
    }
    // One buffer for the whole call: each partition's records are one contiguous slice of it,
    // written with one iovec entry.
    const buf = Buffer.allocUnsafe(total);
    const cursors = new Float64Array(partitionCount);
    const starts = new Float64Array(partitionCount);
    const firstOffsets = new Float64Array(partitionCount);
    const nextOffsets = new Float64Array(partitionCount);
    let involved = 0;
    let position = 0;
    for (let p = 0; p < partitionCount; p++) {
      starts[p] = position;
      cursors[p] = position;
      position += bytesPerPartition[p]!;
      if (recordsPerPartition[p]! > 0) {
        involved++;
        firstOffsets[p] = logs[p]!.nextOffset;
        nextOffsets[p] = logs[p]!.nextOffset;
      }
    }
    const now = Date.now();
    const results: ProduceResult[] = new Array<ProduceResult>(count);
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      const partition = partitions[i]!;
      const offset = nextOffsets[partition]!;
      nextOffsets[partition] = offset + 1;
      cursors[partition] = encodeFrame(
        buf,
        cursors[partition]!,
        record,
        offset,
        record.timestamp ?? now,
        headerCache,
      );
      results[i] = { topic: topicName, partition, offset };
    }
    return new Promise<ProduceResult[]>((resolve, reject) => {
      const ticket = new ProduceTicket<unknown>(
        involved,
        results,
        resolve as (value: unknown) => void,
        reject,
      );
      for (let p = 0; p < partitionCount; p++) {
        if (recordsPerPartition[p] === 0) continue;
        const log = logs[p]!;
        log.nextOffset = nextOffsets[p]!;
        log.append(buf.subarray(starts[p], cursors[p]), firstOffsets[p]!, ticket);
      }
    });
  }

  consumer(options: ConsumerOptions): Consumer {
    this.assertOpen();
    OffsetStore.validateGroupId(options.groupId);
    if (!Array.isArray(options.topics) || options.topics.length === 0) {
      throw new MamoriError(ErrorCode.Validation, 'a consumer subscribes to at least one topic', {
        context: { groupId: options.groupId, field: 'topics' },
      });
    }
    for (const topic of options.topics) validateTopicName(topic);
    const maxBatchRecords = options.maxBatchRecords ?? 1000;
    if (!Number.isSafeInteger(maxBatchRecords) || maxBatchRecords < 1) {
      throw new MamoriError(ErrorCode.Validation, 'maxBatchRecords must be a positive integer', {
        context: { groupId: options.groupId, field: 'maxBatchRecords' },
      });
    }
    if (
      options.startFrom !== undefined &&
      options.startFrom !== 'earliest' &&
      options.startFrom !== 'latest'
    ) {
      throw new MamoriError(ErrorCode.Validation, "startFrom must be 'earliest' or 'latest'", {
        context: { groupId: options.groupId, field: 'startFrom' },
      });
    }
    const consumer = new EmbeddedConsumer(this, options);
    this.consumers.add(consumer);
    return consumer;
  }

  offsets(topicName: string): Promise<PartitionOffsets[]> {
    if (this.closed) return Promise.reject(closedError());
    const topic = this.topics.get(topicName);
    if (topic === undefined) return Promise.reject(unknownTopic(topicName));
    return Promise.resolve(
      topic.logs.map((log) => ({ partition: log.partition, low: log.low, high: log.high })),
    );
  }

  committed(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    if (this.closed) return Promise.reject(closedError());
    return Promise.resolve(this.offsetStore.list(groupId, topic));
  }

  async read(
    topicName: string,
    partition: number,
    offset: number,
    maxRecords = 1000,
  ): Promise<BusRecord[]> {
    if (this.closed) throw closedError();
    const log = this.topics.get(topicName)?.logs[partition];
    if (log === undefined) {
      throw new MamoriError(ErrorCode.BusTopic, 'no such topic or partition', {
        context: { topic: topicName, partition },
      });
    }
    return (await log.read(offset, maxRecords)).records;
  }

  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    clearInterval(this.retentionTimer);
    // Consumers first: a handler still running may produce or commit before it returns.
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    this.closed = true;
    await this.topicCreation;
    const logs = [...this.topics.values()].flatMap((topic) => topic.logs);
    await Promise.all(logs.map((log) => log.close()));
    await this.offsetStore.idle();
    await this.lock.release();
    this.logger.info({ dir: this.dir }, 'embedded bus closed');
  }

  private applyRetention(): void {
    const now = Date.now();
    for (const topic of this.topics.values()) for (const log of topic.logs) log.applyRetention(now);
  }

  // ConsumerHost

  topicLogs(topic: string): readonly PartitionLog[] | undefined {
    return this.topics.get(topic)?.logs;
  }

  coordinator(groupId: string): GroupCoordinator {
    let coordinator = this.coordinators.get(groupId);
    if (coordinator === undefined) {
      coordinator = new GroupCoordinator(
        groupId,
        (topic) => this.topics.get(topic)?.logs.length ?? 0,
      );
      this.coordinators.set(groupId, coordinator);
    }
    return coordinator;
  }

  assertOpen(): void {
    if (this.closing) throw closedError();
  }

  forget(consumer: EmbeddedConsumer): void {
    this.consumers.delete(consumer);
    const coordinator = this.coordinators.get(consumer.groupId);
    if (coordinator !== undefined && coordinator.memberCount === 0)
      this.coordinators.delete(consumer.groupId);
  }
}

function closedError(): MamoriError {
  return new MamoriError(ErrorCode.BusClosed, 'the embedded bus is closed');
}

function unknownTopic(topic: string): MamoriError {
  return new MamoriError(ErrorCode.BusTopic, 'the topic does not exist', { context: { topic } });
}

/** Errors thrown synchronously are always Errors here; this satisfies the type checker. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
