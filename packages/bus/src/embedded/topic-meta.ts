import { readFile } from 'node:fs/promises';
import { ErrorCode, MamoriError } from '@mamori/common';
import type { TopicSpec } from '../types.js';
import { writeFileAtomic } from './fs-util.js';

/** Kafka's legal topic names; also safe as directory names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
/** Most partitions of one topic: each is a directory and an open file. */
export const MAX_PARTITIONS = 10_000;
/** TopicSpec's documented default retention, 7 days in ms. */
export const DEFAULT_RETENTION_MS = 604_800_000;
const META_FORMAT = 1;

/** A topic's settings as stored in `topic.json`. */
export interface TopicMeta {
  topic: string;
  partitions: number;
  /** ms; -1 keeps records whatever their age. */
  retentionMs: number;
  /** bytes per partition; -1 for no limit. */
  retentionBytes: number;
}

/**
 * Checks a topic name.
 * @throws MamoriError BusTopic when it is not a legal Kafka topic name.
 */
export function validateTopicName(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new MamoriError(
      ErrorCode.BusTopic,
      'a topic name is 1–249 characters of [a-zA-Z0-9._-]',
      {
        context: { topic: typeof topic === 'string' ? topic.slice(0, 100) : undefined },
      },
    );
  }
}

/**
 * The settings a spec asks for, with defaults filled in.
 * @throws MamoriError BusTopic when the spec is invalid.
 */
export function topicMetaFromSpec(
  spec: TopicSpec,
  defaults: { retentionMs: number; retentionBytes: number },
): TopicMeta {
  validateTopicName(spec.topic);
  // The embedded log does not compact; a compacted topic keeps every record unless its spec
  // asks for a retention, since deleting old segments would lose keys' last records.
  const compact = spec.cleanupPolicy === 'compact';
  const meta: TopicMeta = {
    topic: spec.topic,
    partitions: spec.partitions ?? 1,
    retentionMs: spec.retentionMs ?? (compact ? -1 : defaults.retentionMs),
    retentionBytes: spec.retentionBytes ?? (compact ? -1 : defaults.retentionBytes),
  };
  const invalid = (field: string): MamoriError =>
    new MamoriError(ErrorCode.BusTopic, 'invalid topic setting', {
      context: { topic: spec.topic, field },
    });
  if (
    !Number.isInteger(meta.partitions) ||
    meta.partitions < 1 ||
    meta.partitions > MAX_PARTITIONS
  ) {
    throw invalid('partitions');
  }
  if (!isLimit(meta.retentionMs)) throw invalid('retentionMs');
  if (!isLimit(meta.retentionBytes)) throw invalid('retentionBytes');
  if (spec.cleanupPolicy !== undefined && spec.cleanupPolicy !== 'delete' && !compact) {
    throw invalid('cleanupPolicy');
  }
  return meta;
}

/** -1 (no limit) or a positive integer. */
function isLimit(value: number): boolean {
  return value === -1 || (Number.isSafeInteger(value) && value > 0);
}

/** Writes a topic's settings atomically. */
export async function writeTopicMeta(file: string, meta: TopicMeta, fsync: boolean): Promise<void> {
  const content = { format: META_FORMAT, ...meta, createdAt: new Date().toISOString() };
  await writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`, fsync);
}

/**
 * Reads a topic's settings.
 * @throws MamoriError BusCorrupt when the file cannot be parsed or is of an unknown format.
 */
export async function readTopicMeta(file: string): Promise<TopicMeta> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<TopicMeta> & {
      format?: number;
    };
    if (parsed.format !== META_FORMAT) throw new Error(`unknown format ${String(parsed.format)}`);
    return topicMetaFromSpec(
      {
        topic: parsed.topic!,
        partitions: parsed.partitions!,
        retentionMs: parsed.retentionMs!,
        retentionBytes: parsed.retentionBytes!,
      },
      { retentionMs: DEFAULT_RETENTION_MS, retentionBytes: -1 },
    );
  } catch (err) {
    throw new MamoriError(ErrorCode.BusCorrupt, 'a topic metadata file could not be read', {
      cause: err,
      context: { file },
    });
  }
}
