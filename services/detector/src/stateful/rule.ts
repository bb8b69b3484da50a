import { createHash } from 'node:crypto';
import type { Alert, Event__Output } from '@mamori/proto';
import type { EventKind, Severity } from '@mamori/rules';

/** What a stateful rule's instance is told besides events. */
export interface StatefulHooks {
  /** A key was dropped because the rule's key cap was reached (its window is lost). */
  onEvict(): void;
}

/** A stateful rule's state for one partition of the events topic. */
export interface StatefulInstance {
  /**
   * Offers one decoded event (in offset order); returns the alert it raises, if any.
   * Deterministic: the same events in the same order from the same state give the same alerts.
   */
  observe(event: Event__Output): Alert | undefined;
  /** Keys held now. */
  readonly keys: number;
  /** The state as JSON-compatible data, for a checkpoint. */
  serialize(): unknown;
}

/** A rule that keeps state across events (windows, counts), per partition of the events topic. */
export interface StatefulRule {
  /** `mamori:<name>`, like the built-in rules. */
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  readonly tags: readonly string[];
  /** The kinds of events it looks at: others are not decoded for it. */
  readonly kinds: readonly EventKind[];
  /**
   * A new instance, empty or from what an instance's `serialize` returned.
   * @throws TypeError when `from` is not such a state.
   */
  create(hooks: StatefulHooks, from?: unknown): StatefulInstance;
}

/**
 * The id of a stateful rule's alert: the first 32 hex digits (128 bits) of the SHA-256 of rule
 * id, key, agent and the id of the event that crossed the threshold, NUL-separated. A replay of
 * the same events crosses on the same event, so it gives the same id.
 */
export function statefulAlertId(ruleId: string, key: string, event: Event__Output): string {
  return createHash('sha256')
    .update(`${ruleId}\0${key}\0${event.agent_id}\0${event.id}`)
    .digest('hex')
    .slice(0, 32);
}

/** Format of the checkpoint record's JSON; a different one is not read. */
export const CHECKPOINT_FORMAT = 1;

/** A partition's state of every stateful rule, and the offset it covers. */
export interface PartitionState {
  /** The partition's next offset: the state is that of every record before it. */
  offset: number;
  /** One instance per rule, by rule id. */
  readonly instances: ReadonlyMap<string, StatefulInstance>;
}

/**
 * The state of every rule for one partition, empty or from a checkpoint. A rule absent from the
 * checkpoint starts empty; a checkpointed rule that no longer runs is ignored.
 * @throws TypeError when `from` is given and is not a state of the format.
 */
export function createPartitionState(
  rules: readonly StatefulRule[],
  options: { offset: number; hooks: (rule: StatefulRule) => StatefulHooks; from?: unknown },
): PartitionState {
  const saved = options.from === undefined ? undefined : parseCheckpoint(options.from).rules;
  const instances = new Map<string, StatefulInstance>();
  for (const rule of rules) {
    instances.set(rule.id, rule.create(options.hooks(rule), saved?.[rule.id]));
  }
  return { offset: options.offset, instances };
}

/** A checkpoint as written: the offset it covers and each rule's state. */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  offset: number;
  rules: Record<string, unknown>;
}

/** The checkpoint of a partition's state (JSON text). */
export function serializePartitionState(state: PartitionState): string {
  const rules: Record<string, unknown> = {};
  for (const [id, instance] of state.instances) rules[id] = instance.serialize();
  const checkpoint: Checkpoint = { format: CHECKPOINT_FORMAT, offset: state.offset, rules };
  return JSON.stringify(checkpoint);
}

/**
 * Reads a checkpoint's JSON text (or parsed value).
 * @throws TypeError when it is not a checkpoint of this format.
 */
export function parseCheckpoint(from: unknown): Checkpoint {
  const value: unknown = typeof from === 'string' ? JSON.parse(from) : from;
  if (typeof value !== 'object' || value === null) throw new TypeError('not a checkpoint');
  const { format, offset, rules } = value as Partial<Checkpoint>;
  if (format !== CHECKPOINT_FORMAT) {
    throw new TypeError(`unknown checkpoint format ${String(format)}`);
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new TypeError('checkpoint offset');
  }
  if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) {
    throw new TypeError('checkpoint rules');
  }
  return { format, offset, rules };
}
