import { randomUUID } from 'node:crypto';
import type { Bus, ConsumedBatch, Consumer } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import type { PolicyUpdate } from '@mamori/proto';
import { PolicyStore } from '@mamori/rules';

export interface PolicyFollowerOptions {
  bus: Pick<Bus, 'consumer' | 'offsets'>;
  topic: string;
  logger: Logger;
  /** A tenant's set changed (after the follower caught up): push it to the tenant's agents. */
  onChange(tenant: string, update: PolicyUpdate): void;
  /** The follower has read the topic up to where it ended at start: push to every agent. */
  onSynced(): void;
}

export interface PolicyFollower {
  /**
   * Starts reading the topic from its beginning. Resolves once everything that was on the
   * topic at start has been read, or after `timeoutMs` (logged; the follower goes on reading
   * and calls `onSynced` when it gets there).
   */
  start(timeoutMs: number): Promise<void>;
  /** True once the topic has been read up to where it ended at start. */
  readonly synced: boolean;
  /** The tenant's current set; undefined until synced, so that no agent is sent a partial set. */
  current(tenant: string): PolicyUpdate | undefined;
  stop(): Promise<void>;
}

/**
 * Follows the policies topic. Every replica must see every policy, so each follower is a
 * consumer group of its own (`mamori-ingest-policies-<uuid>`), starting at the earliest offset
 * and never committing: its state is a cache of the topic, rebuilt at every start, and nothing
 * is left behind on the bus (groups without commits store no offsets).
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
    options.onSynced();
  }

  function handle(batch: ConsumedBatch): Promise<void> {
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
    const last = batch.records.at(-1);
    if (pending !== undefined && last !== undefined) {
      const target = pending.get(batch.partition);
      if (target !== undefined && last.offset + 1 >= target) pending.delete(batch.partition);
    }
    if (synced) {
      for (const [tenant, before] of touched) {
        const update = store.update(tenant);
        if (update.version !== before) {
          logger.info(
            { tenant, version: update.version, policies: update.policies?.length ?? 0 },
            'tenant policies changed',
          );
          options.onChange(tenant, update);
        }
      }
    }
    checkSynced();
    return Promise.resolve();
  }

  return {
    async start(timeoutMs) {
      // Where the topic ends now: the set is complete once every partition is read that far.
      const offsets = await bus.offsets(topic);
      pending = new Map(offsets.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
      consumer = bus.consumer({
        groupId: `mamori-ingest-policies-${randomUUID()}`,
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
          'policies not read up to date in time; agents keep their policies until they are',
        );
      }
    },
    get synced() {
      return synced;
    },
    current: (tenant) => (synced ? store.update(tenant) : undefined),
    async stop() {
      await consumer?.close();
      consumer = undefined;
    },
  };
}
