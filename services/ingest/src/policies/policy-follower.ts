import { followTopic, type Bus, type ConsumedBatch } from '@mamori/bus';
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
 * Follows the policies topic (`followTopic`: a consumer group of its own per replica, from the
 * earliest offset, never committing) and keeps each tenant's set. Agents are sent nothing
 * until the topic has been read up to where it ended at start, so none gets a partial set.
 */
export function createPolicyFollower(options: PolicyFollowerOptions): PolicyFollower {
  const { topic, logger } = options;
  const store = new PolicyStore();

  function onBatch(batch: ConsumedBatch, synced: boolean): void {
    const { changed, ignored } = store.applyRecords(batch.records);
    for (const { offset, reason } of ignored) {
      logger.warn({ topic, partition: batch.partition, offset, reason }, 'policy record ignored');
    }
    if (!synced) return;
    for (const tenant of changed) {
      const update = store.update(tenant);
      logger.info(
        { tenant, version: update.version, policies: update.policies?.length ?? 0 },
        'tenant policies changed',
      );
      options.onChange(tenant, update);
    }
  }

  const follower = followTopic({
    bus: options.bus,
    topic,
    groupPrefix: 'mamori-ingest-policies',
    onBatch,
    onSynced() {
      logger.info({ topic, tenants: store.tenants().length }, 'policies read up to date');
      options.onSynced();
    },
  });

  return {
    async start(timeoutMs) {
      await follower.start();
      if (!(await follower.waitSynced(timeoutMs))) {
        logger.warn(
          { topic, timeoutMs },
          'policies not read up to date in time; agents keep their policies until they are',
        );
      }
    },
    get synced() {
      return follower.synced;
    },
    current: (tenant) => (follower.synced ? store.update(tenant) : undefined),
    stop: () => follower.stop(),
  };
}
