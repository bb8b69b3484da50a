import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { Kafka, Message, Producer, RecordMetadata } from 'kafkajs';
import { partitionForKey } from '../partitioner.js';
import type { ProduceRecord, ProduceResult } from '../types.js';
import { closedError, kafkaErrorTypes, toMamoriError } from './errors.js';
import type { ResolvedKafkaBusOptions } from './options.js';

/** Bytes a record adds to a request besides its key, value and headers (a rough upper bound). */
const RECORD_OVERHEAD_BYTES = 32;

interface PendingProduce {
  topic: string;
  messages: Array<Message & { partition: number }>;
  bytes: number;
  resolve: (results: ProduceResult[]) => void;
  reject: (err: unknown) => void;
}

export interface ProduceQueueDeps {
  kafka: Kafka;
  options: ResolvedKafkaBusOptions;
  log: Logger;
  /**
   * Partition count of a topic, from a cache unless `fresh`.
   * @throws MamoriError BusTopic when the topic does not exist.
   */
  partitionCount: (topic: string, fresh?: boolean) => Promise<number>;
  /** Which of these topics no longer exist. */
  missingTopics: (topics: string[]) => Promise<string[]>;
}

/**
 * The bus's one idempotent producer. Calls made while a request is in flight are merged into
 * the next request (in call order, up to maxProduceRequestBytes), so many small concurrent
 * calls cost a few round trips rather than one each; kafkajs would otherwise queue them one
 * request at a time behind its idempotence lock.
 */
export class ProduceQueue {
  readonly #deps: ProduceQueueDeps;
  #producer: Promise<Producer> | undefined;
  #pending: PendingProduce[] = [];
  #inFlight = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /** Topics the current producer session has sent to (and kafkajs keeps metadata of). */
  readonly #sessionTopics = new Set<string>();
  /** Next partition for records without a key, per topic. */
  readonly #roundRobin = new Map<string, number>();

  constructor(deps: ProduceQueueDeps) {
    this.#deps = deps;
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (this.#closed) throw closedError('produce');
    let partitions = await this.#deps.partitionCount(topic);
    const messages: PendingProduce['messages'] = [];
    const sizes: number[] = [];
    for (const [index, record] of records.entries()) {
      checkRecord(topic, index, record);
      let partition: number;
      if (record.partition !== undefined) {
        if (record.partition >= partitions)
          partitions = await this.#deps.partitionCount(topic, true);
        if (record.partition >= partitions) {
          throw new MamoriError(ErrorCode.BusTopic, 'partition does not exist', {
            context: { topic, partition: record.partition, partitions, index },
          });
        }
        partition = record.partition;
      } else if (record.key !== null) {
        partition = partitionForKey(record.key, partitions);
      } else {
        partition = this.#nextRoundRobin(topic, partitions);
      }
      const message: PendingProduce['messages'][number] = {
        key: record.key,
        value: record.value,
        partition,
      };
      if (record.headers !== undefined) message.headers = { ...record.headers };
      if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
      messages.push(message);
      sizes.push(
        RECORD_OVERHEAD_BYTES +
          (record.key?.length ?? 0) +
          record.value.length +
          headerBytes(record.headers),
      );
    }
    if (messages.length === 0) return [];
    // close() may have begun while the partition count was looked up.
    if (this.#closed) throw closedError('produce');
    // A call larger than one request goes as several, in order: the broker refuses a batch of
    // one partition over message.max.bytes, and one agent's batch is one partition.
    const parts: Promise<ProduceResult[]>[] = [];
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let bytes = 0;
      while (
        end < messages.length &&
        (end === start || bytes + sizes[end]! <= this.#deps.options.maxProduceRequestBytes)
      ) {
        bytes += sizes[end]!;
        end++;
      }
      const part = messages.slice(start, end);
      parts.push(
        new Promise<ProduceResult[]>((resolve, reject) => {
          this.#pending.push({ topic, messages: part, bytes, resolve, reject });
        }),
      );
      start = end;
    }
    this.#pump();
    return parts.length === 1 ? parts[0]! : (await Promise.all(parts)).flat();
  }

  /** Sends what is queued, then disconnects. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight || this.#pending.length > 0) {
      await new Promise<void>((resolve) => (this.#drained = resolve));
    }
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) {
      await producer.then(
        (p) => disconnectQuietly(p, this.#deps.log),
        () => undefined,
      );
    }
  }

  #nextRoundRobin(topic: string, partitions: number): number {
    const next = this.#roundRobin.get(topic) ?? Math.floor(Math.random() * partitions);
    this.#roundRobin.set(topic, (next + 1) % partitions);
    return next % partitions;
  }

  #pump(): void {
    if (this.#inFlight) return;
    if (this.#pending.length === 0) {
      this.#drained?.();
      this.#drained = undefined;
      return;
    }
    const group: PendingProduce[] = [];
    let bytes = 0;
    while (this.#pending.length > 0) {
      const next = this.#pending[0]!;
      if (group.length > 0 && bytes + next.bytes > this.#deps.options.maxProduceRequestBytes) break;
      group.push(this.#pending.shift()!);
      bytes += next.bytes;
    }
    this.#inFlight = true;
    this.#send(group, 0)
      .catch((err: unknown) => {
        // #send settles every call itself; this is only a last line of defence.
        for (const p of group) p.reject(err);
      })
      .finally(() => {
        this.#inFlight = false;
        this.#pump();
      });
  }

  async #send(group: PendingProduce[], attempt: number): Promise<void> {
    let metadata: RecordMetadata[];
    try {
      await this.#dropStaleSession(group);
      const producer = await this.#connect();
      for (const p of group) this.#sessionTopics.add(p.topic);
      metadata = await producer.sendBatch({
        acks: -1,
        timeout: this.#deps.options.requestTimeoutMs,
        topicMessages: group.map((p) => ({ topic: p.topic, messages: p.messages })),
      });
    } catch (err) {
      // Whatever the broker may have written, this producer session's sequence numbers are no
      // longer trustworthy: kafkajs rolls them back after a failure, and reusing them could make
      // the broker drop new records as duplicates. A new session (producer id) is always safe.
      this.#reset();
      await this.#failed(group, attempt, err);
      return;
    }
    let results: ProduceResult[][];
    try {
      results = assignOffsets(group, metadata);
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    group.forEach((p, i) => p.resolve(results[i]!));
  }

  async #failed(group: PendingProduce[], attempt: number, err: unknown): Promise<void> {
    if (attempt === 0 && kafkaErrorTypes(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) {
      // A topic this session sent to was deleted since (see #dropStaleSession), or one of these
      // was. Retry once with the new session the topics that still exist.
      const retry: PendingProduce[] = [];
      for (const p of group) {
        try {
          await this.#deps.partitionCount(p.topic, true);
          retry.push(p);
        } catch (lookupError) {
          p.reject(lookupError);
        }
      }
      if (retry.length > 0) {
        this.#deps.log.warn(
          { topics: [...new Set(retry.map((p) => p.topic))] },
          'produce failed on stale topic metadata; retrying once',
        );
        await this.#send(retry, attempt + 1);
      }
      return;
    }
    for (const p of group)
      p.reject(toMamoriError(err, 'could not produce to Kafka', { topic: p.topic }));
  }

  /**
   * kafkajs refreshes a producer's metadata for every topic it ever sent to, and fails every
   * send (after seconds of retries) once one of them was deleted. Sending to a new topic causes
   * such a refresh, so before that the session's topics are checked, and a session that sent
   * to a topic now gone is replaced.
   */
  async #dropStaleSession(group: PendingProduce[]): Promise<void> {
    if (this.#sessionTopics.size === 0 || group.every((p) => this.#sessionTopics.has(p.topic)))
      return;
    const missing = await this.#deps.missingTopics([...this.#sessionTopics]);
    if (missing.length > 0) {
      this.#deps.log.debug(
        { topics: missing },
        'topics deleted since this producer used them; new session',
      );
      this.#reset();
    }
  }

  #connect(): Promise<Producer> {
    if (this.#producer) return this.#producer;
    const { kafka, options, log } = this.#deps;
    const producer = kafka.producer({
      idempotent: true,
      // kafkajs refuses idempotence with more than one request in flight per broker.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: options.retries },
      // Never consulted: every message carries its partition. Passing one also silences
      // kafkajs's warning about its default partitioner.
      createPartitioner:
        () =>
        ({ message }) =>
          message.partition ?? 0,
    });
    const connecting = producer.connect().then(
      () => producer,
      async (err: unknown) => {
        if (this.#producer === connecting) this.#producer = undefined;
        await disconnectQuietly(producer, log);
        throw err;
      },
    );
    this.#producer = connecting;
    return connecting;
  }

  #reset(): void {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#sessionTopics.clear();
    if (producer) {
      void producer.then(
        (p) => disconnectQuietly(p, this.#deps.log),
        () => undefined,
      );
    }
  }
}

/**
 * Offsets of each call's records. kafkajs keeps the order of messages within a partition and
 * answers each partition with the offset of its first record, so the n-th record of a partition
 * in this request has that offset + n.
 */
function assignOffsets(group: PendingProduce[], metadata: RecordMetadata[]): ProduceResult[][] {
  const base = new Map<string, number>();
  for (const m of metadata) base.set(`${m.partition}\u0000${m.topicName}`, Number(m.baseOffset));
  const used = new Map<string, number>();
  return group.map((p) =>
    p.messages.map((message) => {
      const key = `${message.partition}\u0000${p.topic}`;
      const first = base.get(key);
      if (first === undefined || !Number.isSafeInteger(first)) {
        throw new MamoriError(ErrorCode.BusUnavailable, 'Kafka did not acknowledge a partition', {
          context: { topic: p.topic, partition: message.partition },
        });
      }
      const n = used.get(key) ?? 0;
      used.set(key, n + 1);
      return { topic: p.topic, partition: message.partition, offset: first + n };
    }),
  );
}

export function checkRecord(topic: string, index: number, record: ProduceRecord): void {
  const problem = (field: string, message: string): MamoriError =>
    new MamoriError(ErrorCode.Validation, message, { context: { topic, index, field } });
  if (!Buffer.isBuffer(record.value)) throw problem('value', 'record value must be a Buffer');
  if (record.key !== null && !Buffer.isBuffer(record.key))
    throw problem('key', 'record key must be a Buffer or null');
  if (
    record.partition !== undefined &&
    (!Number.isInteger(record.partition) || record.partition < 0)
  ) {
    throw problem('partition', 'record partition must be a non-negative integer');
  }
  if (
    record.timestamp !== undefined &&
    (!Number.isInteger(record.timestamp) || record.timestamp < 0)
  ) {
    throw problem('timestamp', 'record timestamp must be a non-negative integer (ms)');
  }
}

function headerBytes(headers: ProduceRecord['headers']): number {
  if (!headers) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(headers))
    bytes += name.length + Buffer.byteLength(value) + 8;
  return bytes;
}

async function disconnectQuietly(
  client: { disconnect(): Promise<void> },
  log: Logger,
): Promise<void> {
  try {
    await client.disconnect();
  } catch (err) {
    log.debug({ err }, 'kafka client did not disconnect cleanly');
  }
}

export { disconnectQuietly };
