import type { EventKind } from './rows.js';

/** Half-open time window [from, to) in microseconds since the epoch; either end may be open. */
export interface TimeRange {
  fromMicros?: number;
  toMicros?: number;
}

/** Which page of a listing to read. */
export interface PageRequest {
  /** Items per page, 1 to 1000. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page; absent for the first page. */
  cursor?: string;
}

/** One page of a listing; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Which workload something belongs to; every field given must match exactly. */
export interface WorkloadFilter {
  namespace?: string;
  podName?: string;
  containerId?: string;
  /** An image repository, `repository:tag`, or a digest (`sha256:…`). */
  image?: string;
}

/** Conditions on events; every field given must hold. */
export interface EventFilter extends TimeRange, WorkloadFilter {
  kinds?: readonly EventKind[];
  hostname?: string;
  agentId?: string;
  /** Short process name (comm). */
  processName?: string;
  /** Case-insensitive substring of the command line or of the file path. */
  text?: string;
}

/** An event as stored, for display. */
export interface StoredEvent {
  id: string;
  agentId: string;
  observedUnixMicros: number;
  receivedUnixMicros: number;
  kind: EventKind | '';
  hostname: string;
  workload: {
    namespace: string;
    podName: string;
    containerId: string;
    containerName: string;
    imageRepository: string;
    imageTag: string;
    imageDigest: string;
  };
  processName: string;
  pid: number;
  commandLine: string;
  path: string;
  labels: Record<string, string>;
  /** The payload message as JSON (bytes as base64). */
  payload: unknown;
}

/** Number of events in one time bucket. */
export interface EventCount {
  /** Start of the bucket, microseconds since the epoch, aligned to the epoch. */
  startMicros: number;
  count: number;
}

export const ALERT_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
/** Triage states of an alert or an incident; `suppressed` is noise, kept but not worked on. */
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved', 'suppressed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const INCIDENT_STATUSES = ALERT_STATUSES;
export type IncidentStatus = AlertStatus;

/** An alert raised by a rule. */
export interface AlertInput {
  /** Derived from rule and triggering event, so that a replay re-inserts the same alert. */
  id: string;
  tenantId: string;
  /** Observed time of the triggering event: deterministic, unlike the time of detection. */
  observedUnixMicros: number;
  ruleId: string;
  ruleName: string;
  severity: AlertSeverity;
  title: string;
  agentId: string;
  eventId: string;
  hostname?: string;
  namespace?: string;
  podName?: string;
  containerId?: string;
  imageRepository?: string;
  tags?: readonly string[];
  /** Anything else the rule reports (output fields); stored as JSON. */
  details?: Record<string, unknown>;
}

/** An alert as stored, with its current status. */
export interface StoredAlert extends Required<Omit<AlertInput, 'tenantId' | 'tags' | 'details'>> {
  status: AlertStatus;
  updatedUnixMicros: number;
  tags: string[];
  details: Record<string, unknown>;
}

/** Conditions on alerts; every field given must hold. */
export interface AlertFilter extends TimeRange, WorkloadFilter {
  severities?: readonly AlertSeverity[];
  ruleIds?: readonly string[];
  statuses?: readonly AlertStatus[];
}

/** What an agent said about itself when it connected, and when it was last seen. */
export interface AgentInput {
  tenantId: string;
  agentId: string;
  lastSeenUnixMicros: number;
  hostname: string;
  agentVersion: string;
  capabilities: readonly string[];
  policyVersion: string;
  /** False when the agent's stream ended. @default true */
  connected?: boolean;
}

export type StoredAgent = Omit<AgentInput, 'tenantId' | 'capabilities' | 'connected'> & {
  capabilities: string[];
  /** Whether its latest status said connected (its stream had not ended). */
  connected: boolean;
};

/** A container of a workload. */
export interface WorkloadContainer {
  containerId: string;
  containerName: string;
  runtime: string;
  privileged: boolean;
  imageRepository: string;
  imageTag: string;
  imageDigest: string;
  hostname: string;
  firstSeenUnixMicros: number;
  lastSeenUnixMicros: number;
}

/** A pod (or a bare container, with an empty pod name) and what ran in it. */
export interface Workload {
  namespace: string;
  podName: string;
  containers: WorkloadContainer[];
  /** Distinct images (repository:tag, or the digest without a tag). */
  images: string[];
  hosts: string[];
  firstSeenUnixMicros: number;
  lastSeenUnixMicros: number;
}

/** Conditions on workloads; every field given must hold. */
export interface WorkloadListFilter {
  namespace?: string;
  image?: string;
  hostname?: string;
  /** Only workloads with an event at or after this time. */
  seenSinceMicros?: number;
}

/** Who changed a triage status, and why. */
export interface TriageOptions {
  /**
   * Who made the change, as the audit trail names them (a token's name or id, never a secret).
   * @default 'system' (a change Mamori made itself)
   */
  actor?: string;
  /** Why, in the analyst's words; at most 4096 characters. @default '' */
  note?: string;
  /** When, microseconds since the epoch. @default now */
  atMicros?: number;
}

/**
 * Where an incident's alerts ran: the pod, else the bare container, else the web application
 * (the policy of a WAAS alert), else the host.
 */
export interface IncidentWorkload {
  kind: 'pod' | 'container' | 'web' | 'host';
  /** The roll-up key: `namespace/pod`, `container:<id>`, `web:<policy id>` or `host:<hostname>`. */
  key: string;
  namespace: string;
  podName: string;
  containerId: string;
  hostname: string;
}

/**
 * Alerts of one rule on one workload within one window (`INCIDENT_WINDOW_SECONDS`), rolled
 * up, with the incident's own triage status.
 */
export interface StoredIncident {
  /** A hash of tenant, rule, workload and window start: the same however often it is built. */
  id: string;
  ruleId: string;
  ruleName: string;
  workload: IncidentWorkload;
  windowStartUnixMicros: number;
  /** The highest severity among its alerts. */
  severity: AlertSeverity;
  /** The title of its earliest alert. */
  title: string;
  /** Distinct alerts (by id): a replayed or re-statused alert counts once. */
  alertCount: number;
  firstSeenUnixMicros: number;
  lastSeenUnixMicros: number;
  status: IncidentStatus;
  /** The last status change, absent while the incident was never triaged. */
  statusChange?: { atMicros: number; actor: string; note: string };
}

/** Conditions on incidents; every field given must hold. */
export interface IncidentFilter extends TimeRange {
  /** Of the incident: the highest of its alerts. */
  severities?: readonly AlertSeverity[];
  ruleIds?: readonly string[];
  statuses?: readonly IncidentStatus[];
  namespace?: string;
  podName?: string;
  hostname?: string;
  /** The roll-up key (`IncidentWorkload.key`). */
  workload?: string;
}

/**
 * What an audit entry is about: triage of alerts and incidents, and (since schema 7) admin
 * changes to runtime policies, rule exceptions and per-tenant rule settings.
 */
export const AUDIT_TARGET_TYPES = [
  'alert',
  'incident',
  'policy',
  'rule_exception',
  'rule',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];
/** The triage actions: which status was set. */
export const TRIAGE_ACTIONS = ['reopen', 'acknowledge', 'resolve', 'suppress'] as const;
export type TriageAction = (typeof TRIAGE_ACTIONS)[number];
/** The admin actions on a policy, rule exception or rule setting. */
export const ADMIN_ACTIONS = ['create', 'update', 'delete', 'enable', 'disable'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];
/** Every action an audit entry may record. */
export const AUDIT_ACTIONS = [...TRIAGE_ACTIONS, ...ADMIN_ACTIONS] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an audit listing is about: one target, or every target of a type when `id` is absent. */
export interface AuditTarget {
  type: AuditTargetType;
  /** One target's id. @default undefined (every target of `type`) */
  id?: string;
}

/** One entry to append to the audit trail (see `Warehouse.recordAudit`). */
export interface AuditRecord extends TriageOptions {
  targetType: AuditTargetType;
  /** The target's id: 1 to 256 characters. */
  targetId: string;
  action: AuditAction;
}

/** One entry of the append-only audit trail. */
export interface AuditEntry {
  targetType: AuditTargetType;
  targetId: string;
  action: AuditAction;
  actor: string;
  atMicros: number;
  note: string;
}
