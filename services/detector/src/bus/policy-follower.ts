import { followTopic, type Bus, type ConsumedBatch } from '@mamori/bus';
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
 * Follows the policies topic as ingest does (`followTopic`: a consumer group of its own per
 * replica, from the earliest offset, never committing). Unlike ingest it reports changes while
 * catching up too: the detector compiles a tenant's rules as soon as it knows them.
 */
export function createPolicyFollower(options: PolicyFollowerOptions): PolicyFollower {
  const { topic, logger } = options;
  const store = new PolicyStore();

  function onBatch(batch: ConsumedBatch): void {
    const { changed, ignored } = store.applyRecords(batch.records);
    for (const { offset, reason } of ignored) {
      logger.warn({ topic, partition: batch.partition, offset, reason }, 'policy record ignored');
    }
    for (const tenant of changed) options.onChange(tenant, store.policies(tenant));
  }

  const follower = followTopic({
    bus: options.bus,
    topic,
    groupPrefix: 'mamori-detector-policies',
    onBatch,
    onSynced: () =>
      logger.info({ topic, tenants: store.tenants().length }, 'policies read up to date'),
  });

  return {
    async start(timeoutMs) {
      await follower.start();
      if (!(await follower.waitSynced(timeoutMs))) {
        logger.warn(
          { topic, timeoutMs },
          'policies not read up to date in time; events are evaluated against the policies read so far',
        );
      }
    },
    get synced() {
      return follower.synced;
    },
    stop: () => follower.stop(),
  };
}
