import { randomUUID } from 'node:crypto';
import type { Bus, ConsumedBatch, Consumer } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import type { Policy__Output } from '@mamori/proto';
import { PolicyStore } from '@mamori/rules';

export interface PolicyFollowerOptions {
  bus: Pick<Bus, 'consumer' | 'offsets'>;
  topic: string;
  logger: Logger;
  /** A tenant's set changed (also while catching up): its complete set, sorted by id. */
  onChange(tenant: string, policies: readonly Policy__Output[]): void;
}

export interface PolicyFollower {
  /**
   * Starts reading the topic from its beginning. Resolves once everything that was on the
   * topic at start has been read, or after `timeoutMs` (logged; the follower goes on reading).
   */
  start(timeoutMs: number): Promise<void>;
  /** True once the topic has been read up to where it ended at start. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

/**
 * Follows the policies topic as ingest does: every replica must see every policy, so each
 * follower is a consumer group of its own (`mamori-detector-policies-<uuid>`), from the
 * earliest offset and never committing; its state is a cache of the topic, rebuilt at every
 * start. Unlike ingest it reports changes while catching up too: the detector compiles a
 * tenant's rules as soon as it knows them.
 */
export function createPolicyFollower(options: PolicyFollowerOptions): PolicyFollower {
  const { bus, topic, logger } = options;
  const store = new PolicyStore();
  /** Offsets each partition must reach before the follower is synced; cleared once reached. */
  let pending: Map<number, number> | undefined;
  let synced = false;
  let consumer: Consumer | undefined;
  let markSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  function checkSynced(): void {
    if (synced || pending === undefined || pending.size > 0) return;
    synced = true;
    logger.info({ topic, tenants: store.tenants().length }, 'policies read up to date');
    markSynced();
  }

  function handle(batch: ConsumedBatch): Promise<void> {
    /** Each tenant touched by the batch, with its version before. */
    const touched = new Map<string, string>();
    for (const record of batch.records) {
      const tenant = record.key?.toString('utf8').split('/', 1)[0] ?? '';
      const before = touched.has(tenant) ? undefined : store.update(tenant).version;
      const outcome = store.applyRecord(record.key, record.value);
      if (outcome.kind === 'ignored') {
        logger.warn(
          { topic, partition: batch.partition, offset: record.offset, reason: outcome.reason },
          'policy record ignored',
        );
        continue;
      }
      if (before !== undefined) touched.set(tenant, before);
    }
    for (const [tenant, before] of touched) {
      if (store.update(tenant).version !== before) options.onChange(tenant, store.policies(tenant));
    }
    const last = batch.records.at(-1);
    if (pending !== undefined && last !== undefined) {
      const target = pending.get(batch.partition);
      if (target !== undefined && last.offset + 1 >= target) pending.delete(batch.partition);
    }
    checkSynced();
    return Promise.resolve();
  }

  return {
    async start(timeoutMs) {
      // Where the topic ends now: the sets are complete once every partition is read that far.
      const offsets = await bus.offsets(topic);
      pending = new Map(offsets.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
      consumer = bus.consumer({
        groupId: `mamori-detector-policies-${randomUUID()}`,
        topics: [topic],
        startFrom: 'earliest',
      });
      await consumer.run(handle);
      checkSynced();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
      const late = await Promise.race([syncedPromise.then(() => false), timedOut]);
      clearTimeout(timer);
      if (late) {
        logger.warn(
          { topic, timeoutMs, partitions: [...(pending?.keys() ?? [])] },
          'policies not read up to date in time; events are evaluated against the policies read so far',
        );
      }
    },
    get synced() {
      return synced;
    },
    async stop() {
      await consumer?.close();
      consumer = undefined;
    },
  };
}
