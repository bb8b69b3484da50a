import { AsyncLocalStorage } from 'node:async_hooks';
import { backoffDelay, ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type {
  Consumer as KafkaJsConsumer,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
} from 'kafkajs';
import type {
  BatchHandler,
  BusRecord,
  Consumer,
  ConsumerOptions,
  RecordHeaders,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import { closedError, toMamoriError } from './errors.js';
import { disconnectQuietly } from './producer.js';
import type { ResolvedKafkaBusOptions } from './options.js';

export interface KafkaConsumerDeps {
  kafka: Kafka;
  options: ResolvedKafkaBusOptions;
  log: Logger;
  /** Called once the consumer has closed, so that the bus forgets it. */
  onClosed: (consumer: KafkaGroupConsumer) => void;
}

/** Which consumer's handler the current async context runs in (see close()). */
const inHandler = new AsyncLocalStorage<KafkaGroupConsumer>();

const partitionKey = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

/**
 * A member of a Kafka consumer group, through kafkajs's classic group protocol. kafkajs fetches
 * and heartbeats; this class hands its batches to the handler one at a time, in chunks of at
 * most maxBatchRecords, and moves a partition's fetch position only past chunks whose handler
 * returned. Offsets reach Kafka only through commit().
 */
export class KafkaGroupConsumer implements Consumer {
  readonly #deps: KafkaConsumerDeps;
  readonly #groupId: string;
  readonly #topics: string[];
  readonly #fromBeginning: boolean;
  readonly #maxBatchRecords: number;
  readonly #log: Logger;
  #state: 'idle' | 'running' | 'closed' = 'idle';
  #consumer: KafkaJsConsumer | undefined;
  #handler: BatchHandler | undefined;
  #assignment: TopicPartition[] = [];
  /** Consecutive handler failures per partition, for the redelivery backoff. */
  readonly #failures = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #joined = false;
  #rejectJoin: ((err: unknown) => void) | undefined;
  #closing: Promise<void> | undefined;
  #left: Promise<void> = Promise.resolve();
  #restarts = 0;

  constructor(options: ConsumerOptions, deps: KafkaConsumerDeps) {
    const problems: string[] = [];
    if (typeof options.groupId !== 'string' || options.groupId.length === 0)
      problems.push('groupId');
    if (
      !Array.isArray(options.topics) ||
      options.topics.length === 0 ||
      options.topics.some((t) => !t)
    ) {
      problems.push('topics');
    }
    const maxBatchRecords = options.maxBatchRecords ?? 1000;
    if (!Number.isInteger(maxBatchRecords) || maxBatchRecords < 1) problems.push('maxBatchRecords');
    if (
      options.startFrom !== undefined &&
      options.startFrom !== 'earliest' &&
      options.startFrom !== 'latest'
    ) {
      problems.push('startFrom');
    }
    if (problems.length > 0) {
      throw new MamoriError(ErrorCode.Validation, 'invalid consumer options', {
        context: { field: problems.join(','), groupId: String(options.groupId) },
      });
    }
    this.#deps = deps;
    this.#groupId = options.groupId;
    this.#topics = [...new Set(options.topics)];
    this.#fromBeginning = (options.startFrom ?? 'earliest') === 'earliest';
    this.#maxBatchRecords = maxBatchRecords;
    this.#log = deps.log.child({ groupId: options.groupId });
  }

  async run(handler: BatchHandler): Promise<void> {
    if (this.#state === 'closed') throw closedError('run');
    if (this.#state === 'running') {
      throw new MamoriError(ErrorCode.BusGroup, 'consumer is already running', {
        context: { groupId: this.#groupId },
      });
    }
    this.#state = 'running';
    this.#handler = handler;
    const { kafka, options } = this.#deps;
    const consumer = kafka.consumer({
      groupId: this.#groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTimeInMs: options.maxWaitMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { retries: options.retries },
    });
    this.#consumer = consumer;
    const joined = this.#watch(consumer);
    const fetched = this.#firstFetch(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.#topics, fromBeginning: this.#fromBeginning });
      await this.#start(consumer);
      await joined;
      // kafkajs looks up where a partition without a commit starts only at its first fetch;
      // 'latest' must mean the end when run() resolved, not whenever that fetch happens.
      if (!this.#fromBeginning) await fetched;
    } catch (err) {
      this.#rejectJoin = undefined;
      await disconnectQuietly(consumer, this.#log);
      if (this.#isClosed()) throw closedError('run');
      this.#state = 'idle';
      this.#consumer = undefined;
      throw toMamoriError(err, 'could not join the consumer group', { groupId: this.#groupId });
    }
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.#state === 'closed') throw closedError('commit');
    if (offsets.length === 0) return;
    for (const o of offsets) {
      if (!Number.isSafeInteger(o.offset) || o.offset < 0) {
        throw new MamoriError(
          ErrorCode.Validation,
          'offset to commit must be a non-negative integer',
          {
            context: {
              groupId: this.#groupId,
              topic: o.topic,
              partition: o.partition,
              field: 'offset',
            },
          },
        );
      }
      if (!this.#assignment.some((a) => a.topic === o.topic && a.partition === o.partition)) {
        throw new MamoriError(ErrorCode.BusGroup, 'partition is not assigned to this consumer', {
          context: { groupId: this.#groupId, topic: o.topic, partition: o.partition },
        });
      }
    }
    const consumer = this.#consumer;
    if (!consumer)
      throw new MamoriError(ErrorCode.BusGroup, 'consumer is not running', {
        context: { groupId: this.#groupId },
      });
    try {
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (err) {
      throw toMamoriError(err, 'could not commit offsets', { groupId: this.#groupId });
    }
  }

  assignment(): TopicPartition[] {
    return this.#assignment.map((a) => ({ ...a }));
  }

  /**
   * Leaves the group. Called from this consumer's own handler, it returns at once and the
   * consumer leaves as soon as the handler returns (kafkajs finishes a batch before leaving).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Resolves once the consumer has left its group, even when close() was called from a handler. */
  whenLeft(): Promise<void> {
    return this.#left;
  }

  async #close(): Promise<void> {
    this.#state = 'closed';
    this.#assignment = [];
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#rejectJoin?.(closedError('run'));
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (consumer) {
      this.#left = disconnectQuietly(consumer, this.#log);
      if (inHandler.getStore() !== this) await this.#left;
    }
    this.#deps.onClosed(this);
  }

  /** A method, not a field read, so that TypeScript does not narrow the state across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  /**
   * Resolves after the first fetch (whose start positions kafkajs resolved before sending it),
   * or when the consumer stops or crashes, or after a fetch's worst-case duration.
   */
  #firstFetch(consumer: KafkaJsConsumer): Promise<void> {
    const { FETCH, STOP, CRASH } = consumer.events;
    return new Promise<void>((resolve) => {
      const removers: Array<() => void> = [];
      const timer = setTimeout(
        done,
        this.#deps.options.maxWaitMs + this.#deps.options.requestTimeoutMs,
      );
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        for (const remove of removers) remove();
        resolve();
      }
      removers.push(consumer.on(FETCH, done), consumer.on(STOP, done), consumer.on(CRASH, done));
    });
  }

  /** Follows the group through kafkajs's events; resolves on the first join. */
  #watch(consumer: KafkaJsConsumer): Promise<void> {
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = consumer.events;
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(GROUP_JOIN, ({ payload }) => {
        this.#assignment = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
          partitions.map((partition) => ({ topic, partition })),
        );
        for (const key of this.#failures.keys()) {
          if (!this.#assignment.some((a) => partitionKey(a.topic, a.partition) === key))
            this.#failures.delete(key);
        }
        this.#joined = true;
        this.#restarts = 0;
        this.#rejectJoin = undefined;
        this.#log.debug(
          { memberId: payload.memberId, assignment: payload.memberAssignment },
          'joined the consumer group',
        );
        resolve();
      });
      this.#rejectJoin = reject;
    });
    consumer.on(REBALANCING, () => {
      // The classic protocol is eager: everything is revoked until the group is synced again.
      this.#assignment = [];
    });
    consumer.on(STOP, () => {
      this.#assignment = [];
    });
    consumer.on(CRASH, ({ payload }) => {
      this.#assignment = [];
      if (this.#state !== 'running') return;
      this.#log.error({ err: payload.error, restart: payload.restart }, 'Kafka consumer crashed');
      if (payload.restart) return; // kafkajs rejoins by itself
      if (!this.#joined) {
        this.#rejectJoin?.(payload.error);
        return;
      }
      // kafkajs gives up on errors it deems fatal; a consumer that silently stops is worse
      // than one that keeps trying (and logging), so start it again after a backoff.
      const delayMs = backoffDelay(this.#restarts++, this.#deps.options.redeliveryBackoff);
      this.#later(delayMs, () => {
        if (this.#state !== 'running' || this.#consumer !== consumer) return;
        this.#start(consumer).catch((err: unknown) =>
          this.#log.error({ err }, 'Kafka consumer did not restart'),
        );
      });
    });
    return joined;
  }

  #start(consumer: KafkaJsConsumer): Promise<void> {
    return consumer.run({
      autoCommit: false,
      // Offsets are resolved here, chunk by chunk, only after the handler returned.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    // kafkajs's payload functions are closures; they are called through the payload only to
    // satisfy the type declarations, which declare them as methods.
    const { batch } = payload;
    const { topic, partition } = batch;
    const handler = this.#handler;
    if (!handler) return;
    const highWatermark = Number(batch.highWatermark);
    const messages = batch.messages;
    for (let start = 0; start < messages.length; start += this.#maxBatchRecords) {
      if (this.#state !== 'running' || !payload.isRunning() || payload.isStale()) return;
      const chunk = messages.slice(start, start + this.#maxBatchRecords);
      const records = chunk.map((m) => toBusRecord(topic, partition, m));
      // kafkajs heartbeats only between batches; keep the membership alive through a long handler.
      const keepAlive = setInterval(() => {
        payload.heartbeat().catch(() => undefined); // a rebalance is noticed again after the batch
      }, this.#deps.options.heartbeatIntervalMs);
      try {
        await inHandler.run(this, () => handler({ topic, partition, records, highWatermark }));
      } catch (err) {
        this.#redeliverLater(topic, partition, records[0]!.offset, err, () => payload.pause());
        return;
      } finally {
        clearInterval(keepAlive);
      }
      this.#failures.delete(partitionKey(topic, partition));
      payload.resolveOffset(chunk[chunk.length - 1]!.offset);
    }
  }

  /**
   * The partition's fetch position stays at the failed chunk; pausing the partition for a
   * backoff makes kafkajs fetch it again from there afterwards, while other partitions go on.
   */
  #redeliverLater(
    topic: string,
    partition: number,
    offset: number,
    err: unknown,
    pause: () => () => void,
  ): void {
    const key = partitionKey(topic, partition);
    const attempt = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, attempt);
    const backoff = this.#deps.options.redeliveryBackoff;
    const delayMs = Math.max(Math.floor(backoff.initialMs / 2), backoffDelay(attempt - 1, backoff));
    this.#log.warn(
      { topic, partition, offset, attempt, delayMs, err },
      'batch handler failed; batch will be delivered again',
    );
    const resume = pause();
    this.#later(delayMs, () => {
      if (this.#state === 'running') resume();
    });
  }

  #later(delayMs: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, delayMs);
    this.#timers.add(timer);
  }
}

function toBusRecord(topic: string, partition: number, m: KafkaMessage): BusRecord {
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? Buffer.alloc(0),
    headers: toHeaders(m.headers),
    timestamp: Number(m.timestamp),
  };
}

/** Kafka allows a header name more than once; the bus keeps the last value. */
function toHeaders(headers: IHeaders | undefined): RecordHeaders {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = Buffer.isBuffer(last) ? last.toString('utf8') : last;
  }
  return out;
}
