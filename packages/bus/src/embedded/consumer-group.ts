import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ErrorCode,
  MamoriError,
  backoffDelay,
  type BackoffOptions,
  type Logger,
} from '@mamori/common';
import type {
  BatchHandler,
  ConsumedBatch,
  Consumer,
  ConsumerOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.js';
import type { OffsetStore } from './offset-store.js';
import type { PartitionLog, ReadHint } from './partition-log.js';

/** What a consumer needs from the bus that created it. */
export interface ConsumerHost {
  readonly logger: Logger;
  readonly offsetStore: OffsetStore;
  readonly handlerRetry: BackoffOptions;
  /** The partition logs of a topic, or undefined when it does not exist. */
  topicLogs(topic: string): readonly PartitionLog[] | undefined;
  /** The coordinator of a group in this bus, created on first use. */
  coordinator(groupId: string): GroupCoordinator;
  /** @throws MamoriError BusClosed when the bus is closing or closed. */
  assertOpen(): void;
  /** The consumer has closed. */
  forget(consumer: EmbeddedConsumer): void;
}

/** The consumer whose handler is running, to recognize close() called from inside it. */
const inHandler = new AsyncLocalStorage<EmbeddedConsumer>();

/** Topic names are [a-zA-Z0-9._-], so ':' separates without ambiguity. */
function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * The in-process coordinator of one consumer group: it assigns partitions round-robin to the
 * members that subscribe to their topic, anew (a new generation) whenever a member joins or
 * leaves. A partition changes hands only once its holder has released it — after the batch it
 * is handling, if any — so two members never handle the same partition at once, and the new
 * holder starts from the group's committed offset.
 */
export class GroupCoordinator {
  /** Bumped on every join and leave. */
  generation = 0;
  private readonly members: EmbeddedConsumer[] = [];
  private readonly holders = new Map<string, EmbeddedConsumer>();
  private targets = new Map<string, EmbeddedConsumer>();

  readonly groupId: string;
  private readonly partitionCount: (topic: string) => number;

  constructor(groupId: string, partitionCount: (topic: string) => number) {
    this.groupId = groupId;
    this.partitionCount = partitionCount;
  }

  get memberCount(): number {
    return this.members.length;
  }

  join(member: EmbeddedConsumer): void {
    this.members.push(member);
    this.rebalance();
  }

  /**
   * Removes a member that has stopped handling batches. Its partitions go to their new owners
   * as it releases them.
   */
  leave(member: EmbeddedConsumer): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.rebalance();
  }

  /** `member` no longer handles the partition; its target owner (if any) takes it. */
  release(key: string, member: EmbeddedConsumer): void {
    if (this.holders.get(key) !== member) return;
    this.holders.delete(key);
    const target = this.targets.get(key);
    if (target !== undefined) this.grant(key, target);
  }

  private rebalance(): void {
    this.generation++;
    const targets = new Map<string, EmbeddedConsumer>();
    const byMember = new Map<EmbeddedConsumer, Set<string>>(
      this.members.map((m) => [m, new Set()]),
    );
    const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
    let next = 0;
    for (const topic of topics) {
      const eligible = this.members.filter((m) => m.topics.includes(topic));
      const partitions = this.partitionCount(topic);
      for (let partition = 0; partition < partitions; partition++) {
        const member = eligible[next++ % eligible.length]!;
        const key = partitionKey(topic, partition);
        targets.set(key, member);
        byMember.get(member)!.add(key);
      }
    }
    this.targets = targets;
    for (const member of this.members) member.assign(this.generation, byMember.get(member)!);
    for (const member of this.members) member.releaseRevoked();
    for (const [key, member] of targets) {
      if (!this.holders.has(key)) this.grant(key, member);
    }
  }

  private grant(key: string, member: EmbeddedConsumer): void {
    this.holders.set(key, member);
    member.acquire(key);
  }
}

/** A partition this member holds, and where it is in it. */
interface Cursor {
  key: string;
  topic: string;
  partition: number;
  log: PartitionLog;
  /** Next offset to hand to the handler. */
  position: number;
  hint: ReadHint | undefined;
  /** A batch whose handler threw, to deliver again at `retryAt`. */
  failed: ConsumedBatch | undefined;
  /** Failed attempts in a row (handler or read), for the backoff. */
  attempts: number;
  retryAt: number;
}

type ConsumerState = 'created' | 'running' | 'closing' | 'closed';

/** A member of an in-process consumer group of the embedded bus. */
export class EmbeddedConsumer implements Consumer {
  readonly groupId: string;
  readonly topics: readonly string[];
  private readonly startFrom: 'earliest' | 'latest';
  private readonly maxBatchRecords: number;
  private readonly log: Logger;
  private state: ConsumerState = 'created';
  private coordinator: GroupCoordinator | undefined;
  private target = new Set<string>();
  private readonly held = new Map<string, Cursor>();
  /** The cursor whose batch is being handled. */
  private busy: Cursor | undefined;
  private roundRobin = 0;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private closePromise: Promise<void> | undefined;
  private readonly onData = (): void => this.wake();

  private readonly host: ConsumerHost;

  constructor(host: ConsumerHost, options: ConsumerOptions) {
    this.host = host;
    this.groupId = options.groupId;
    this.topics = [...new Set(options.topics)];
    this.startFrom = options.startFrom ?? 'earliest';
    this.maxBatchRecords = options.maxBatchRecords ?? 1000;
    this.log = host.logger;
  }

  run(handler: BatchHandler): Promise<void> {
    try {
      this.start(handler);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  private start(handler: BatchHandler): void {
    if (this.state === 'closing' || this.state === 'closed') {
      throw new MamoriError(ErrorCode.BusClosed, 'the consumer is closed', {
        context: { groupId: this.groupId },
      });
    }
    this.host.assertOpen();
    if (this.state === 'running') {
      throw new MamoriError(ErrorCode.BusGroup, 'the consumer is already running', {
        context: { groupId: this.groupId },
      });
    }
    for (const topic of this.topics) {
      if (this.host.topicLogs(topic) === undefined) {
        throw new MamoriError(ErrorCode.BusTopic, 'the topic does not exist', {
          context: { topic, groupId: this.groupId },
        });
      }
    }
    this.state = 'running';
    this.coordinator = this.host.coordinator(this.groupId);
    this.coordinator.join(this);
    this.loopDone = this.loop(handler);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (this.state === 'closed') {
      throw new MamoriError(ErrorCode.BusClosed, 'the consumer is closed', {
        context: { groupId: this.groupId },
      });
    }
    for (const { topic, partition, offset } of offsets) {
      if (!Number.isSafeInteger(offset) || offset < 0) {
        throw new MamoriError(
          ErrorCode.Validation,
          'an offset to commit must be a non-negative integer',
          {
            context: { groupId: this.groupId, topic, partition, field: 'offset' },
          },
        );
      }
      // A partition being handed over still belongs to this member until its batch is done,
      // so the handler of that batch may commit it.
      if (!this.held.has(partitionKey(topic, partition))) {
        throw new MamoriError(
          ErrorCode.BusGroup,
          'the partition is not assigned to this consumer',
          {
            context: { groupId: this.groupId, topic, partition, offset },
          },
        );
      }
    }
    if (offsets.length === 0) return;
    await this.host.offsetStore.commit(this.groupId, offsets);
  }

  assignment(): TopicPartition[] {
    return [...this.held.values()]
      .filter((cursor) => this.target.has(cursor.key))
      .map(({ topic, partition }) => ({ topic, partition }))
      .sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
      );
  }

  /**
   * Leaves the group once the running batch (if any) is handled. Called from this consumer's
   * own handler it returns at once — waiting there would wait for itself — and the consumer
   * leaves as soon as the handler returns.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    if (inHandler.getStore() === this) return Promise.resolve();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = 'closing';
    this.wake();
    await this.loopDone;
    clearTimeout(this.retryTimer);
    if (wasRunning) {
      // Leave first, so that the partitions released below go to the remaining members.
      this.coordinator?.leave(this);
      for (const cursor of [...this.held.values()]) this.releaseCursor(cursor);
    }
    this.state = 'closed';
    this.host.forget(this);
  }

  /** Called by the coordinator with this member's partitions of a new generation. */
  assign(generation: number, keys: Set<string>): void {
    this.target = keys;
    this.log.debug(
      { groupId: this.groupId, generation, partitions: [...keys] },
      'consumer group assignment changed',
    );
    this.wake();
  }

  /** Hands over partitions no longer assigned, except the one whose batch is running. */
  releaseRevoked(): void {
    for (const cursor of [...this.held.values()]) {
      if (!this.target.has(cursor.key) && cursor !== this.busy) this.releaseCursor(cursor);
    }
  }

  /** Called by the coordinator when this member may start on a partition. */
  acquire(key: string): void {
    const separator = key.lastIndexOf(':');
    const topic = key.slice(0, separator);
    const partition = Number(key.slice(separator + 1));
    const log = this.host.topicLogs(topic)![partition]!;
    const cursor: Cursor = {
      key,
      topic,
      partition,
      log,
      position: this.startingPosition(log),
      hint: undefined,
      failed: undefined,
      attempts: 0,
      retryAt: 0,
    };
    this.held.set(key, cursor);
    log.addListener(this.onData);
    this.wake();
  }

  private startingPosition(log: PartitionLog): number {
    const { topic, partition } = log;
    const committed = this.host.offsetStore.get(this.groupId, topic, partition);
    if (committed === undefined) return this.startFrom === 'latest' ? log.high : log.low;
    if (committed < log.low) {
      this.log.warn(
        { groupId: this.groupId, topic, partition, committed, low: log.low },
        'retention deleted records the group never committed; resuming at the first readable offset',
      );
      return log.low;
    }
    if (committed > log.high) {
      this.log.warn(
        { groupId: this.groupId, topic, partition, committed, high: log.high },
        'committed offset is beyond the end of the partition; resuming at its end',
      );
      return log.high;
    }
    return committed;
  }

  private releaseCursor(cursor: Cursor): void {
    this.held.delete(cursor.key);
    cursor.log.removeListener(this.onData);
    this.coordinator?.release(cursor.key, this);
  }

  private wake(): void {
    this.woken = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private async loop(handler: BatchHandler): Promise<void> {
    while (this.state === 'running') {
      this.woken = false;
      const now = Date.now();
      const cursor = this.nextReady(now);
      if (cursor === undefined) {
        if (!this.woken) await this.sleepUntilWoken(now);
        continue;
      }
      try {
        await this.serve(cursor, handler);
      } catch (err) {
        // serve handles handler and read errors itself; this is a bug, not a reason to stop.
        this.log.error({ err, groupId: this.groupId }, 'consumer loop error');
      }
    }
  }

  /** The next held partition with something to deliver, round-robin for fairness. */
  private nextReady(now: number): Cursor | undefined {
    const cursors = [...this.held.values()];
    for (let i = 0; i < cursors.length; i++) {
      const cursor = cursors[(this.roundRobin + i) % cursors.length]!;
      if (!this.target.has(cursor.key)) continue;
      const ready = cursor.attempts > 0 ? cursor.retryAt <= now : cursor.position < cursor.log.high;
      if (ready) {
        this.roundRobin = (this.roundRobin + i + 1) % cursors.length;
        return cursor;
      }
    }
    return undefined;
  }

  /** Waits for new records, an assignment change, close, or the earliest retry. */
  private async sleepUntilWoken(now: number): Promise<void> {
    let retryAt = Infinity;
    for (const cursor of this.held.values()) {
      if (cursor.attempts > 0 && this.target.has(cursor.key))
        retryAt = Math.min(retryAt, cursor.retryAt);
    }
    if (retryAt !== Infinity)
      this.retryTimer = setTimeout(() => this.wake(), Math.max(0, retryAt - now));
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
    });
    clearTimeout(this.retryTimer);
  }

  private async serve(cursor: Cursor, handler: BatchHandler): Promise<void> {
    const { topic, partition } = cursor;
    let batch = cursor.failed;
    if (batch === undefined) {
      try {
        const { records, hint } = await cursor.log.read(
          cursor.position,
          this.maxBatchRecords,
          cursor.hint,
        );
        cursor.attempts = 0;
        if (records.length === 0) return;
        if (records[0]!.offset > cursor.position) {
          this.log.warn(
            {
              groupId: this.groupId,
              topic,
              partition,
              from: cursor.position,
              to: records[0]!.offset,
            },
            'retention deleted records before this consumer read them',
          );
        }
        cursor.hint = hint;
        batch = { topic, partition, records, highWatermark: cursor.log.high };
      } catch (err) {
        const delayMs = this.backOff(cursor);
        this.log.error(
          { err, groupId: this.groupId, topic, partition, offset: cursor.position, delayMs },
          'could not read from the embedded log; retrying after a backoff',
        );
        return;
      }
    } else {
      batch = { ...batch, records: [...batch.records] };
    }
    this.busy = cursor;
    const delivered = batch;
    try {
      await inHandler.run(this, () => handler(delivered));
      cursor.position = batch.records.at(-1)!.offset + 1;
      cursor.failed = undefined;
      cursor.attempts = 0;
    } catch (err) {
      cursor.failed = batch;
      const delayMs = this.backOff(cursor);
      this.log.warn(
        {
          err,
          groupId: this.groupId,
          topic,
          partition,
          offset: batch.records[0]!.offset,
          records: batch.records.length,
          attempt: cursor.attempts,
          delayMs,
        },
        'batch handler failed; the batch will be delivered again after a backoff',
      );
    } finally {
      this.busy = undefined;
      if (!this.target.has(cursor.key) && this.held.get(cursor.key) === cursor)
        this.releaseCursor(cursor);
    }
  }

  private backOff(cursor: Cursor): number {
    const delayMs = backoffDelay(cursor.attempts, this.host.handlerRetry);
    cursor.attempts++;
    cursor.retryAt = Date.now() + delayMs;
    return delayMs;
  }
}

/** Errors thrown synchronously are always Errors here; this satisfies the type checker. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
