import type { Event__Output } from '@mamori/proto';

/** The payload kinds of `mamori.v1.Event` (the names of its `payload` oneof). */
export const EVENT_KINDS = [
  'process_exec',
  'process_exit',
  'file_open',
  'file_write',
  'file_rename',
  'file_delete',
  'network_connect',
  'network_accept',
  'network_listen',
  'dns_query',
  'http_request',
  'http_response',
  'scanner_finding',
  'file_link',
  'file_symlink',
  'kernel_module_load',
  'process_ptrace',
  'network_socket',
  'fd_dup',
  'enforcement',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Alert severities, as the warehouse and the API name them. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Where a rule came from; `policy`: a tenant's runtime policy (`compilePolicies`). */
export type RuleSource = 'falco' | 'sigma' | 'mamori' | 'policy';

/**
 * What to do when a rule matches: report it (`alert`), kill the offending process
 * (`prevent`), or stop the offending container (`block`). Every match is reported.
 */
export type RuleAction = 'alert' | 'prevent' | 'block';

/**
 * A rule compiled into functions. Evaluation offers a rule only events of its `kinds`;
 * `matches` never throws (a missing field is a non-match, as in Falco).
 */
export interface CompiledRule {
  /** Stable across loads: `falco:<name>`, `sigma:<id>`, `mamori:<name>`, `policy:<id>:<part>`. */
  readonly id: string;
  readonly name: string;
  readonly source: RuleSource;
  /** As written: a Falco priority (`WARNING`) or a Sigma level (`high`). */
  readonly priority: string;
  readonly severity: Severity;
  /** The rule's tags, MITRE ATT&CK technique ids among them (`T1059`, `attack.t1059`). */
  readonly tags: readonly string[];
  /** The event kinds the rule can fire on. */
  readonly kinds: readonly EventKind[];
  /** Where the rule is defined, for messages. */
  readonly file?: string;
  readonly line?: number;
  /**
   * What a match asks for, from the mode of the runtime policy the rule belongs to. Absent
   * (rules of files, built-in rules): `alert`.
   */
  readonly action?: RuleAction;
  /** True when the condition holds and no exception applies. */
  matches(event: Event__Output): boolean;
  /**
   * Optional: the rule's check for events of `kind` alone, for an engine's hot loop (it offers
   * a rule only events of its kinds, so the check skips `matches`' dispatch on the kind).
   * Undefined for a kind the rule never fires on. The function may throw on an event that lacks
   * what a decoder always sets (a hand-built object): that is a non-match, as `matches` says.
   */
  matcherFor?(kind: EventKind): ((event: Event__Output) => boolean) | undefined;
  /** The output template with the event's values substituted. */
  render(event: Event__Output): string;
  /** The fields the output names (e.g. `proc.cmdline`), with the event's values, as text. */
  details(event: Event__Output): Record<string, string>;
}

/** A rule that was understood but cannot run on Mamori's events, and why. */
export interface SkippedRule {
  rule: string;
  reason: string;
  /** The field or construct at fault, when one is. */
  field?: string;
  file?: string;
  line?: number;
}

/** A problem in a rule file that is not about one rule (bad YAML, an unknown key, …). */
export interface RuleProblem {
  file: string;
  line: number;
  message: string;
}

/** What loading rule files produced. Loading never throws on file content. */
export interface RuleSet {
  rules: CompiledRule[];
  skipped: SkippedRule[];
  problems: RuleProblem[];
}
