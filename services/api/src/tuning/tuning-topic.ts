import type { Logger } from '@mamori/common';
import {
  protoType,
  type RuleCatalog__Output,
  type RuleTuning,
  type RuleTuning__Output,
} from '@mamori/proto';
import { RuleTuningStore, ruleTuningKey } from '@mamori/rules';
import { createFollowedTopic, type FollowBus } from '../bus/followed-topic.js';

/** The rule tuning and rule catalog topics as the API sees them. */
export interface TuningTopic {
  /**
   * The tenant's rule exceptions (records with `exception` set), sorted by id, as of the
   * topic's end when called.
   */
  exceptions(tenant: string): Promise<RuleTuning__Output[]>;
  /** The tenant's rule settings (records with `setting` set), sorted by rule, likewise. */
  settings(tenant: string): Promise<RuleTuning__Output[]>;
  /** Appends a version of an exception or setting (or its tombstone). */
  write(tuning: RuleTuning): Promise<void>;
  /** What each detector group runs, by group id, as of the catalog topic's end when called. */
  catalogs(): Promise<RuleCatalog__Output[]>;
  close(): Promise<void>;
}

export interface TuningTopicOptions {
  bus: FollowBus;
  /** `Topics.ruleTuning` unless configured otherwise. */
  topic: string;
  /** `Topics.ruleCatalog` unless configured otherwise. */
  catalogTopic: string;
  logger: Logger;
}

const TUNING = protoType('mamori.v1.RuleTuning');
const CATALOG = protoType('mamori.v1.RuleCatalog');

/**
 * Reads the rule tuning topic with the detector's own `RuleTuningStore` (the last record per
 * key wins), and the rule catalog topic (the last catalog per detector group), each through a
 * follower of its own. Every read waits until the follower has read up to where the topic ends
 * at that moment: a caller sees its own writes.
 */
export function createTuningTopic(options: TuningTopicOptions): TuningTopic {
  const { bus, topic, catalogTopic, logger } = options;
  const store = new RuleTuningStore();
  const tuning = createFollowedTopic({
    bus,
    topic,
    groupPrefix: 'mamori-api-tuning',
    onBatch(batch) {
      for (const { offset, reason } of store.applyRecords(batch.records).ignored) {
        logger.warn(
          { topic, partition: batch.partition, offset, reason },
          'rule tuning record ignored',
        );
      }
    },
  });
  const groups = new Map<string, RuleCatalog__Output>();
  const catalog = createFollowedTopic({
    bus,
    topic: catalogTopic,
    groupPrefix: 'mamori-api-rule-catalog',
    onBatch(batch) {
      for (const record of batch.records) {
        const group = record.key?.toString('utf8') ?? '';
        if (group === '') continue;
        if (record.value.length === 0) {
          groups.delete(group);
          continue;
        }
        try {
          groups.set(
            group,
            CATALOG.toObject(CATALOG.decode(record.value), {
              longs: Number,
              enums: String,
              defaults: true,
            }) as RuleCatalog__Output,
          );
        } catch {
          logger.warn(
            { topic: catalogTopic, partition: batch.partition, offset: record.offset },
            'rule catalog record ignored: not a mamori.v1.RuleCatalog',
          );
        }
      }
    },
  });

  return {
    async exceptions(tenant) {
      await tuning.caughtUp();
      return store.records(tenant, 'exception');
    },
    async settings(tenant) {
      await tuning.caughtUp();
      return store.records(tenant, 'setting');
    },
    async write(record) {
      const kind = record.setting ? 'setting' : 'exception';
      const name = record.setting?.rule ?? record.exception?.id ?? '';
      const bytes = TUNING.encode(TUNING.fromObject(record)).finish();
      await tuning.write([
        {
          key: Buffer.from(ruleTuningKey(record.tenant_id ?? '', kind, name), 'utf8'),
          value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        },
      ]);
    },
    async catalogs() {
      await catalog.caughtUp();
      return [...groups.values()].sort((a, b) => (a.group_id < b.group_id ? -1 : 1));
    },
    async close() {
      await Promise.all([tuning.close(), catalog.close()]);
    },
  };
}
