import type { Bus, TopicSpec } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import { protoType, type RuleCatalog, type RuleInfo } from '@mamori/proto';
import type { CompiledRule, SkippedRule } from '@mamori/rules';
import type { StatefulRule } from '../stateful/rule.js';

const CATALOG = protoType('mamori.v1.RuleCatalog');

/** How long a failed publication waits before it is tried again, in ms. */
const RETRY_MS = 5000;

export interface RuleCatalogPublisher {
  /** The topic's settings, for `ensureTopics`. */
  readonly spec: TopicSpec;
  /**
   * Publishes what runs now, replacing the group's earlier catalog. Never throws: a failure is
   * logged and tried again (with the newest rules) until it succeeds or `stop` is called.
   */
  publish(rules: readonly CompiledRule[], skipped: readonly SkippedRule[]): void;
  stop(): Promise<void>;
}

export interface RuleCatalogOptions {
  bus: Pick<Bus, 'produce'>;
  topic: string;
  groupId: string;
  logger: Logger;
  stateful: readonly StatefulRule[];
}

const SEVERITY = {
  info: 'SEVERITY_INFO',
  low: 'SEVERITY_LOW',
  medium: 'SEVERITY_MEDIUM',
  high: 'SEVERITY_HIGH',
  critical: 'SEVERITY_CRITICAL',
} as const;

/** The catalog of what one detector group runs, as `mamori.v1.RuleCatalog`. */
export function ruleCatalogOf(
  groupId: string,
  rules: readonly CompiledRule[],
  skipped: readonly SkippedRule[],
  stateful: readonly StatefulRule[],
  loadedUnixMicros: number,
): RuleCatalog {
  const info: RuleInfo[] = rules.map((rule) => ({
    id: rule.id,
    name: rule.name,
    source: rule.source,
    priority: rule.priority,
    severity: SEVERITY[rule.severity],
    tags: [...rule.tags],
    kinds: [...rule.kinds],
    file: rule.file ?? '',
    line: rule.line ?? 0,
    stateful: false,
  }));
  for (const rule of stateful) {
    info.push({
      id: rule.id,
      name: rule.name,
      source: 'mamori',
      priority: rule.severity,
      severity: SEVERITY[rule.severity],
      tags: [...rule.tags],
      kinds: [...rule.kinds],
      stateful: true,
    });
  }
  return {
    group_id: groupId,
    loaded_unix_micros: loadedUnixMicros,
    rules: info,
    skipped: skipped.map((s) => ({
      rule: s.rule,
      reason: s.reason,
      field: s.field ?? '',
      file: s.file ?? '',
      line: s.line ?? 0,
    })),
  };
}

/**
 * Publishes the rules a detector group runs to the compacted catalog topic, keyed by the group,
 * for the API to list: every replica of a group runs the same rules, so the last one wins.
 */
export function createRuleCatalogPublisher(options: RuleCatalogOptions): RuleCatalogPublisher {
  const { bus, topic, groupId, logger } = options;
  let pending: RuleCatalog | undefined;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function flush(): Promise<void> {
    while (pending !== undefined && !stopped) {
      const catalog = pending;
      pending = undefined;
      const bytes = CATALOG.encode(CATALOG.fromObject(catalog)).finish();
      try {
        await bus.produce(topic, [
          {
            key: Buffer.from(groupId, 'utf8'),
            value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          },
        ]);
        logger.info({ topic, rules: catalog.rules?.length ?? 0 }, 'rule catalog published');
      } catch (err) {
        // A newer catalog may have arrived meanwhile: that one is what must get out.
        pending ??= catalog;
        logger.warn({ topic, err, retryMs: RETRY_MS }, 'could not publish the rule catalog');
        timer = setTimeout(() => void schedule(), RETRY_MS);
        return;
      }
    }
  }

  function schedule(): Promise<void> {
    running ??= flush().finally(() => (running = undefined));
    return running;
  }

  return {
    spec: {
      topic,
      partitions: 1,
      cleanupPolicy: 'compact',
      retentionMs: -1,
      retentionBytes: -1,
    },
    publish(rules, skipped) {
      pending = ruleCatalogOf(groupId, rules, skipped, options.stateful, Date.now() * 1000);
      clearTimeout(timer);
      void schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
