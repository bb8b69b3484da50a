import type { Logger } from '@mamori/common';
import { protoType, type Policy, type Policy__Output } from '@mamori/proto';
import { PolicyStore } from '@mamori/rules';
import { createFollowedTopic, type FollowBus } from '../bus/followed-topic.js';

/** What the policy resolvers need of the bus. */
export type PolicyBus = FollowBus;

/** The policies topic as the API sees it: each tenant's current set, and writes to it. */
export interface PolicyTopic {
  /** The tenant's live policies, sorted by id, as of the topic's end when called. */
  list(tenant: string): Promise<Policy__Output[]>;
  /** One of the tenant's live policies, as of the topic's end when called. */
  get(tenant: string, id: string): Promise<Policy__Output | undefined>;
  /** Appends a version of a policy (or its tombstone), keyed `<tenant_id>/<id>`. */
  write(policy: Policy): Promise<void>;
  /** Stops following the topic. */
  close(): Promise<void>;
}

export interface PolicyTopicOptions {
  bus: PolicyBus;
  topic: string;
  logger: Logger;
}

const POLICY = protoType('mamori.v1.Policy');

/**
 * Reads the policies topic as ingest does (`createFollowedTopic`). Every read first waits until
 * the follower has read up to where the topic ends at that moment, so a caller sees its own
 * writes and those of every other API replica. Log order decides, as in ingest's store: the
 * last record per key is the policy, or its deletion (`deleted`, or an empty value).
 */
export function createPolicyTopic(options: PolicyTopicOptions): PolicyTopic {
  const { bus, topic, logger } = options;
  // The same reading of the topic as ingest's and the detector's: last record per key wins.
  const store = new PolicyStore();
  const followed = createFollowedTopic({
    bus,
    topic,
    groupPrefix: 'mamori-api-policies',
    onBatch(batch) {
      for (const { offset, reason } of store.applyRecords(batch.records).ignored) {
        logger.warn({ topic, partition: batch.partition, offset, reason }, 'policy record ignored');
      }
    },
  });

  return {
    async list(tenant) {
      await followed.caughtUp();
      return store.policies(tenant);
    },
    async get(tenant, id) {
      await followed.caughtUp();
      return store.policies(tenant).find((policy) => policy.id === id);
    },
    async write(policy) {
      const bytes = POLICY.encode(POLICY.fromObject(policy)).finish();
      await followed.write([
        {
          key: Buffer.from(`${policy.tenant_id ?? ''}/${policy.id ?? ''}`, 'utf8'),
          value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        },
      ]);
    },
    close: () => followed.close(),
  };
}
