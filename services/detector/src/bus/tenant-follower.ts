import { followTopic, type Bus, type ConsumedBatch } from '@mamori/bus';
import type { Logger } from '@mamori/common';

/** A reading of a compacted per-tenant topic: `PolicyStore`, `RuleTuningStore`. */
export interface TenantStore {
  applyRecords(records: ConsumedBatch['records']): {
    changed: string[];
    ignored: { offset: number; reason: string }[];
  };
  tenants(): string[];
}

export interface TenantFollowerOptions {
  bus: Pick<Bus, 'consumer' | 'offsets'>;
  topic: string;
  logger: Logger;
  /** What the topic holds, for messages: `policies`, `rule tuning`. */
  what: string;
  /** Prefix of the follower's own consumer group. */
  groupPrefix: string;
  store: TenantStore;
  /** A tenant's records changed (also while catching up): read its state from `store`. */
  onChange(tenant: string): void;
}

export interface TenantFollower {
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
 * Follows a compacted per-tenant topic as ingest follows the policies (`followTopic`: a
 * consumer group of its own per replica, from the earliest offset, never committing). Unlike
 * ingest it reports changes while catching up too: the detector compiles a tenant's rules as
 * soon as it knows them.
 */
export function createTenantFollower(options: TenantFollowerOptions): TenantFollower {
  const { topic, logger, what, store } = options;

  function onBatch(batch: ConsumedBatch): void {
    const { changed, ignored } = store.applyRecords(batch.records);
    for (const { offset, reason } of ignored) {
      logger.warn({ topic, partition: batch.partition, offset, reason }, `${what} record ignored`);
    }
    for (const tenant of changed) options.onChange(tenant);
  }

  const follower = followTopic({
    bus: options.bus,
    topic,
    groupPrefix: options.groupPrefix,
    onBatch,
    onSynced: () =>
      logger.info({ topic, tenants: store.tenants().length }, `${what} read up to date`),
  });

  return {
    async start(timeoutMs) {
      await follower.start();
      if (!(await follower.waitSynced(timeoutMs))) {
        logger.warn(
          { topic, timeoutMs },
          `${what} not read up to date in time; events are evaluated against what was read so far`,
        );
      }
    },
    get synced() {
      return follower.synced;
    },
    stop: () => follower.stop(),
  };
}
