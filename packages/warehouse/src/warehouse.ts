import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCode, MamoriError } from '@mamori/common';
import { createEventCodec, type Event__Output } from '@mamori/proto';
import { createWarehouseClient, type WarehouseClientOptions } from './client.js';
import { DATABASE_NAME, type WarehouseConfig } from './config.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import {
  appendEventRow,
  createRowBuffer,
  EVENT_ROW_COLUMNS,
  EVENT_ROW_FORMAT,
  EVENT_ROW_STRUCTURE,
} from './event-row.js';
import { storedPayload, type EventKind, type EventRow } from './rows.js';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from './types.js';
import { INCIDENT_KEY, migrate, type MigrationReport } from './schema/migrations.js';
import type {
  AgentInput,
  AlertFilter,
  AlertInput,
  AlertSeverity,
  AlertStatus,
  AuditAction,
  AuditEntry,
  AuditRecord,
  AuditTarget,
  AuditTargetType,
  EventCount,
  EventFilter,
  IncidentFilter,
  IncidentWorkload,
  IncidentStatus,
  Page,
  PageRequest,
  StoredAgent,
  StoredAlert,
  StoredEvent,
  StoredIncident,
  TimeRange,
  TriageAction,
  TriageOptions,
  Workload,
  WorkloadFilter,
  WorkloadListFilter,
} from './types.js';

/**
 * Mamori's history in ClickHouse. Every read takes the caller's tenant first and puts it in
 * its WHERE clause; every value reaches ClickHouse as a query parameter.
 */
export interface Warehouse {
  /** The client underneath, for what this interface does not cover yet. */
  readonly client: ClickHouseClient;
  readonly database: string;
  /**
   * Stores events in one insert, each given as the RowBinary row `encodeEventRow` made of
   * its protobuf bytes: how the store inserts what it reads from the bus. Idempotent like
   * `insertEvents`.
   * @throws ClickHouseError or a network error from @clickhouse/client; retry the whole batch.
   */
  insertEventRows(rows: readonly Uint8Array[]): Promise<void>;
  /**
   * Stores decoded events in one insert. Re-inserting an event (same tenant, agent, id and
   * observed time) never makes a query show it twice.
   * @throws ClickHouseError or a network error from @clickhouse/client; retry the whole batch.
   */
  insertEvents(events: readonly Event__Output[]): Promise<void>;
  /**
   * Stores newly raised alerts as `open`. Re-inserting an alert never reopens one whose
   * status was changed since.
   */
  insertAlerts(alerts: readonly AlertInput[]): Promise<void>;
  /**
   * Sets the status of some of the tenant's alerts and records each change in the audit trail;
   * unknown ids are ignored.
   * @throws MamoriError Validation on a bad tenant, time or note.
   */
  setAlertStatus(
    tenantId: string,
    ids: readonly string[],
    status: AlertStatus,
    options?: TriageOptions,
  ): Promise<void>;
  /** Records agents as seen; the latest `lastSeenUnixMicros` of each agent wins. */
  upsertAgents(agents: readonly AgentInput[]): Promise<void>;
  /**
   * The tenant's events matching `filter`, newest first.
   * @throws MamoriError Validation on a bad tenant, limit or cursor.
   */
  listEvents(
    tenantId: string,
    filter?: EventFilter,
    page?: PageRequest,
  ): Promise<Page<StoredEvent>>;
  /**
   * Event counts in buckets of `bucketSeconds` over `filter`'s time range (both ends
   * required), oldest first; empty buckets are left out.
   */
  countEvents(
    tenantId: string,
    filter: EventFilter & Required<TimeRange>,
    bucketSeconds: number,
  ): Promise<EventCount[]>;
  /** The tenant's alerts matching `filter`, newest first. */
  listAlerts(
    tenantId: string,
    filter?: AlertFilter,
    page?: PageRequest,
  ): Promise<Page<StoredAlert>>;
  /** Alerts matching `filter` per severity (severities without alerts are 0). */
  countAlertsBySeverity(
    tenantId: string,
    filter?: AlertFilter,
  ): Promise<Record<AlertSeverity, number>>;
  /**
   * The tenant's incidents matching `filter`, the most recently seen first. An incident lies in
   * a time range when one of its alerts could (first seen before its end, last seen after its
   * start).
   * @throws MamoriError Validation on a bad tenant, limit or cursor.
   */
  listIncidents(
    tenantId: string,
    filter?: IncidentFilter,
    page?: PageRequest,
  ): Promise<Page<StoredIncident>>;
  /** Incidents matching `filter` per severity (severities without incidents are 0). */
  countIncidentsBySeverity(
    tenantId: string,
    filter?: IncidentFilter,
  ): Promise<Record<AlertSeverity, number>>;
  /**
   * One of the tenant's incidents with a page of its alerts (newest first), or undefined when
   * the tenant has no incident of that id.
   */
  getIncident(
    tenantId: string,
    id: string,
    alerts?: PageRequest,
  ): Promise<(StoredIncident & { alerts: Page<StoredAlert> }) | undefined>;
  /**
   * Sets the status of one of the tenant's incidents (as a whole: alerts that join it later
   * share it) and records the change in the audit trail. Resolves false, changing nothing,
   * when the tenant has no incident of that id.
   * @throws MamoriError Validation on a bad tenant, time or note.
   */
  setIncidentStatus(
    tenantId: string,
    id: string,
    status: IncidentStatus,
    options?: TriageOptions,
  ): Promise<boolean>;
  /**
   * Appends one entry to the tenant's audit trail: how the API records an admin change (a
   * policy, rule exception or rule setting created, updated, deleted, enabled or disabled).
   * Triage changes are recorded by `setAlertStatus` and `setIncidentStatus` themselves.
   * @throws MamoriError Validation on a bad tenant, target type, target id (1 to 256
   * characters), action, actor, time or note.
   */
  recordAudit(tenantId: string, entry: AuditRecord): Promise<void>;
  /**
   * The tenant's audit trail of one target, or of every target of `target.type` when
   * `target.id` is absent (e.g. the whole policy-change history), newest first.
   * @throws MamoriError Validation on a bad tenant, target type, limit or cursor.
   */
  listAudit(tenantId: string, target: AuditTarget, page?: PageRequest): Promise<Page<AuditEntry>>;
  /** The tenant's agents by id, with their last hello. */
  listAgents(tenantId: string, page?: PageRequest): Promise<Page<StoredAgent>>;
  /** The tenant's workloads by namespace and pod, with their containers, images and hosts. */
  listWorkloads(
    tenantId: string,
    filter?: WorkloadListFilter,
    page?: PageRequest,
  ): Promise<Page<Workload>>;
  /** Closes the client when the warehouse opened it. */
  close(): Promise<void>;
}

export interface CreateWarehouseOptions {
  client: ClickHouseClient;
  /** Database of Mamori's tables (a plain identifier). @default 'mamori' */
  database?: string;
  /** Whether `close()` closes `client`. @default false */
  ownsClient?: boolean;
  /**
   * For chDB in this process: a directory it can read, where event inserts are staged as
   * files and read with `file()`. chDB parses a file about twice as fast as an INSERT's
   * inline data (measured: 149k vs 79k events/s). Without it, inserts send their rows as
   * the body of the INSERT, as a ClickHouse server expects.
   * @default undefined (inline)
   */
  stagingDir?: string;
}

/** Inserts staged by this process so far, over all its warehouses: unique file names. */
let stagedInProcess = 0;

/** 50 items: one screen of a list in the API. */
const DEFAULT_LIMIT = 50;
/** Larger pages would make one GraphQL response megabytes of JSON. */
const MAX_LIMIT = 1000;

/**
 * Copies of an event share its observed time, hence its day partition: FINAL need not merge
 * across partitions. In the SQL rather than in `clickhouse_settings`, which chDB would keep.
 */
const EVENTS_FINAL_SETTINGS = 'do_not_merge_across_partitions_select_final = 1';

/**
 * Length of an incident's window, in seconds: alerts of one rule on one workload within the
 * same hour (aligned to the epoch) are one incident. Fixed in the `incidents` view (schema 6);
 * a different length needs a migration that rebuilds the table.
 */
export const INCIDENT_WINDOW_SECONDS = 3600;

/**
 * How a listing of incidents probes back in time from the newest window (see
 * `newestIncidentKeys`): the first probe covers 2 windows (the newest may have just begun), each
 * next one 8 times the windows of the one before (16, then 128), and after 3 bounded probes the
 * last takes every older window at once. The probes read disjoint windows, so a page that needs
 * them all (a filter that matches little) costs one merge of the range plus at most 4 small
 * queries.
 */
const INCIDENT_PROBE = { firstWindows: 2, growth: 8, bounded: 3 } as const;

/** The workload an alert rolls up into: the `incidents` view's own expression. */
const ALERT_WORKLOAD = INCIDENT_KEY.workload;

/** 4096 characters: a paragraph of reasoning, not a pasted log. */
const MAX_NOTE_LENGTH = 4096;

/** 256 characters: an id or a name, as for actors. */
const MAX_TARGET_ID_LENGTH = 256;

/** The audit action of setting a status. */
const ACTION_OF: Record<AlertStatus, TriageAction> = {
  open: 'reopen',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
  suppressed: 'suppress',
};

const EVENT_COLUMNS = `id, agent_id, toUnixTimestamp64Micro(observed_at) AS observed_micros,
  toUnixTimestamp64Micro(received_at) AS received_micros, kind, hostname, namespace, pod_name,
  container_id, container_name, image_repository, image_tag, image_digest, process_name, pid,
  command_line, path, labels, payload, base64Encode(event) AS event`;

/** A row of EVENT_COLUMNS: the stored columns, with times as micros and the payload as text. */
type EventResultRow = Pick<
  EventRow,
  | 'id'
  | 'agent_id'
  | 'kind'
  | 'hostname'
  | 'namespace'
  | 'pod_name'
  | 'container_id'
  | 'container_name'
  | 'image_repository'
  | 'image_tag'
  | 'image_digest'
  | 'process_name'
  | 'pid'
  | 'command_line'
  | 'path'
  | 'labels'
> & {
  observed_micros: number | string;
  received_micros: number | string;
  /** Schema 1 kept the payload as JSON; empty since schema 2. */
  payload: string;
  /** The event's protobuf bytes, base64 (empty in rows stored by schema 1). */
  event: string;
};

const ALERT_COLUMNS = `id, toUnixTimestamp64Micro(observed_at) AS observed_micros,
  toUnixTimestamp64Micro(updated_at) AS updated_micros, rule_id, rule_name, severity, status,
  title, agent_id, event_id, hostname, namespace, pod_name, container_id, image_repository,
  tags, details`;

interface AlertResultRow {
  id: string;
  observed_micros: number | string;
  updated_micros: number | string;
  rule_id: string;
  rule_name: string;
  severity: AlertSeverity;
  status: AlertStatus;
  title: string;
  agent_id: string;
  event_id: string;
  hostname: string;
  namespace: string;
  pod_name: string;
  container_id: string;
  image_repository: string;
  tags: string[];
  details: string;
}

/** WHERE conditions and their parameters, built together so that no value enters the SQL. */
class Where {
  readonly conditions: string[] = [];
  readonly params: Record<string, unknown> = {};
  #next = 0;
  readonly #prefix: string;

  /** `prefix` keeps the parameters of two Wheres of one query apart. */
  constructor(prefix = 'p') {
    this.#prefix = prefix;
  }

  /** Adds `sql`, where each `?name` (a word) stands for the parameter of the same name. */
  add(sql: string, values: Record<string, { type: string; value: unknown }>): this {
    let text = sql;
    for (const [name, { type, value }] of Object.entries(values)) {
      const param = `${this.#prefix}${this.#next++}`;
      this.params[param] = value;
      text = text.replace(new RegExp(`\\?${name}\\b`, 'g'), `{${param}:${type}}`);
    }
    this.conditions.push(text);
    return this;
  }

  toString(): string {
    return this.conditions.join('\n  AND ');
  }
}

function checkTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new MamoriError(ErrorCode.Validation, 'a tenant is required', {
      context: { field: 'tenantId' },
    });
  }
}

function pageLimit(page: PageRequest): number {
  const limit = page.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new MamoriError(ErrorCode.Validation, `limit must be 1 to ${MAX_LIMIT}`, {
      context: { field: 'limit', limit },
    });
  }
  return limit;
}

function checkMicros(field: string, value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw new MamoriError(ErrorCode.Validation, `${field} must be an integer`, {
      context: { field },
    });
  }
}

/** `tenant_id = …` first, so that every query of a tenant reads only its own key range. */
function tenantWhere(tenantId: string): Where {
  checkTenant(tenantId);
  return new Where().add('tenant_id = ?t', { t: { type: 'String', value: tenantId } });
}

function addTimeRange(where: Where, column: string, range: TimeRange): void {
  checkMicros('fromMicros', range.fromMicros);
  checkMicros('toMicros', range.toMicros);
  if (range.fromMicros !== undefined) {
    where.add(`${column} >= fromUnixTimestamp64Micro(?v, 'UTC')`, {
      v: { type: 'Int64', value: range.fromMicros },
    });
  }
  if (range.toMicros !== undefined) {
    where.add(`${column} < fromUnixTimestamp64Micro(?v, 'UTC')`, {
      v: { type: 'Int64', value: range.toMicros },
    });
  }
}

function addWorkload(where: Where, filter: WorkloadFilter): void {
  if (filter.namespace !== undefined)
    where.add('namespace = ?v', { v: { type: 'String', value: filter.namespace } });
  if (filter.podName !== undefined)
    where.add('pod_name = ?v', { v: { type: 'String', value: filter.podName } });
  if (filter.containerId !== undefined)
    where.add('container_id = ?v', { v: { type: 'String', value: filter.containerId } });
  if (filter.image !== undefined) addImage(where, filter.image);
}

function addImage(where: Where, image: string): void {
  where.add(
    image.startsWith('sha256:')
      ? 'image_digest = ?v'
      : image.includes(':', image.lastIndexOf('/') + 1)
        ? "concat(image_repository, ':', image_tag) = ?v"
        : 'image_repository = ?v',
    { v: { type: 'String', value: image } },
  );
}

function eventWhere(tenantId: string, filter: EventFilter): Where {
  const where = tenantWhere(tenantId);
  addTimeRange(where, 'observed_at', filter);
  addWorkload(where, filter);
  if (filter.kinds !== undefined)
    where.add('kind IN ?v', { v: { type: 'Array(String)', value: filter.kinds } });
  if (filter.hostname !== undefined)
    where.add('hostname = ?v', { v: { type: 'String', value: filter.hostname } });
  if (filter.agentId !== undefined)
    where.add('agent_id = ?v', { v: { type: 'String', value: filter.agentId } });
  if (filter.processName !== undefined)
    where.add('process_name = ?v', { v: { type: 'String', value: filter.processName } });
  if (filter.text !== undefined && filter.text !== '') {
    // LIKE on the lower-cased columns, as the trigram indexes are built (migration 4); the
    // text is matched literally: LIKE's own characters are escaped.
    where.add(
      "(lowerUTF8(command_line) LIKE concat('%', lowerUTF8(?v), '%') OR lowerUTF8(path) LIKE concat('%', lowerUTF8(?v), '%'))",
      { v: { type: 'String', value: filter.text.replace(/[\\%_]/g, (c) => `\\${c}`) } },
    );
  }
  return where;
}

function alertWhere(tenantId: string, filter: AlertFilter): Where {
  const where = tenantWhere(tenantId);
  addTimeRange(where, 'observed_at', filter);
  addWorkload(where, filter);
  if (filter.severities !== undefined)
    where.add('severity IN ?v', { v: { type: 'Array(String)', value: filter.severities } });
  if (filter.statuses !== undefined)
    where.add('status IN ?v', { v: { type: 'Array(String)', value: filter.statuses } });
  if (filter.ruleIds !== undefined)
    where.add('rule_id IN ?v', { v: { type: 'Array(String)', value: filter.ruleIds } });
  return where;
}

/** The who, why and when of a triage change, checked. */
function triage(options: TriageOptions): { actor: string; note: string; atMicros: number } {
  const { actor = 'system', note = '', atMicros = Date.now() * 1000 } = options;
  checkMicros('atMicros', atMicros);
  if (typeof actor !== 'string' || actor === '' || actor.length > 256) {
    throw new MamoriError(ErrorCode.Validation, 'actor must be 1 to 256 characters', {
      context: { field: 'actor' },
    });
  }
  if (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH) {
    throw new MamoriError(
      ErrorCode.Validation,
      `note must be at most ${MAX_NOTE_LENGTH} characters`,
      {
        context: { field: 'note' },
      },
    );
  }
  return { actor, note, atMicros };
}

function checkAuditTargetType(type: unknown): asserts type is AuditTargetType {
  if (!(AUDIT_TARGET_TYPES as readonly unknown[]).includes(type)) {
    throw new MamoriError(
      ErrorCode.Validation,
      `target type must be one of ${AUDIT_TARGET_TYPES.join(', ')}`,
      { context: { field: 'targetType' } },
    );
  }
}

/** An audit entry to append, checked. */
function auditRecord(entry: AuditRecord): {
  targetType: AuditTargetType;
  targetId: string;
  action: AuditAction;
  actor: string;
  note: string;
  atMicros: number;
} {
  checkAuditTargetType(entry.targetType);
  const { targetId, action } = entry;
  if (typeof targetId !== 'string' || targetId === '' || targetId.length > MAX_TARGET_ID_LENGTH) {
    throw new MamoriError(
      ErrorCode.Validation,
      `target id must be 1 to ${MAX_TARGET_ID_LENGTH} characters`,
      { context: { field: 'targetId' } },
    );
  }
  if (!(AUDIT_ACTIONS as readonly unknown[]).includes(action)) {
    throw new MamoriError(
      ErrorCode.Validation,
      `action must be one of ${AUDIT_ACTIONS.join(', ')}`,
      {
        context: { field: 'action' },
      },
    );
  }
  return { targetType: entry.targetType, targetId, action, ...triage(entry) };
}

interface IncidentResultRow {
  incident_id: string;
  alert_count: number | string;
  window_seconds: number | string;
  rule_id: string;
  rule_name: string;
  workload: string;
  workload_kind: IncidentWorkload['kind'];
  namespace: string;
  pod_name: string;
  container_id: string;
  hostname: string;
  max_severity: AlertSeverity;
  first_micros: number | string;
  last_micros: number | string;
  sample_title: string;
  incident_status: IncidentStatus;
  triaged: boolean | number;
  status_micros: number | string;
  status_actor: string;
  status_note: string;
}

/** What orders a listing of incidents, and finds an incident's partial aggregates. */
type IncidentKeyRow = Pick<
  IncidentResultRow,
  'incident_id' | 'window_seconds' | 'rule_id' | 'workload' | 'last_micros'
>;

/** How `incidentsSql` builds its rows. */
interface IncidentsSqlOptions {
  /** More conditions on the key, appended to `inner`'s (with parameters of their own). @default '' */
  keySql?: string;
  /**
   * Whether to join each incident's latest status: what a statuses filter and the rows shown
   * need, not a listing's order or a count. Without it, `outer` must not name the status.
   * @default true
   */
  status?: boolean;
  /** More conditions on the statuses joined (e.g. only a page's ids). @default '' */
  statusSql?: string;
  /**
   * Whether to merge the sets of alert ids into `alert_count`: 16 bytes per alert, the most
   * costly aggregate, so only for the few incidents shown. @default false
   */
  counts?: boolean;
}

/**
 * Incidents as rows: their partial aggregates merged per key (`inner`: conditions on the key,
 * tenant first), joined with their latest status, then `outer` (conditions on the merged
 * values and the status). Aliases differ from the columns they aggregate: ClickHouse resolves
 * a name in WHERE to a SELECT alias first. ClickHouse leaves out the aggregates an enclosing
 * query does not read, so a query that selects only the sort key of these rows merges only
 * that (~4 times cheaper than every column, measured over 140k incidents).
 */
function incidentsSql(
  db: string,
  inner: Where,
  outer: Where,
  options: IncidentsSqlOptions = {},
): string {
  const { keySql = '', status = true, statusSql = '', counts = false } = options;
  return `SELECT i.*${
    status
      ? `,
      if(s.incident_id = '', 'open', toString(s.status)) AS incident_status,
      s.incident_id != '' AS triaged,
      toUnixTimestamp64Micro(s.updated_at) AS status_micros,
      s.actor AS status_actor, s.note AS status_note`
      : ''
  }
    FROM (
      SELECT any(id) AS incident_id, toUnixTimestamp(window_start) AS window_seconds, rule_id,
        workload, any(workload_kind) AS workload_kind, any(namespace) AS namespace,
        any(pod_name) AS pod_name, any(container_id) AS container_id,
        any(hostname) AS hostname, any(rule_name) AS rule_name,
        max(severity) AS max_severity,
        toUnixTimestamp64Micro(min(first_seen_at)) AS first_micros,
        toUnixTimestamp64Micro(max(last_seen_at)) AS last_micros,
        argMinMerge(title) AS sample_title${
          counts
            ? `,
        uniqExactMerge(alert_ids) AS alert_count`
            : ''
        }
      FROM ${db}.incidents
      WHERE ${inner.toString()}${keySql}
      GROUP BY window_start, rule_id, workload
    ) AS i${
      status
        ? `
    LEFT JOIN (
      SELECT incident_id, status, updated_at, actor, note
      FROM ${db}.incident_status FINAL
      WHERE tenant_id = {tenant:String}${statusSql}
    ) AS s ON s.incident_id = i.incident_id`
        : ''
    }
    WHERE ${outer.conditions.length === 0 ? '1' : outer.toString()}`;
}

/** Conditions of `filter`: on the key inside (`inner`), on merged values and status outside. */
function incidentWheres(tenantId: string, filter: IncidentFilter): { inner: Where; outer: Where } {
  const inner = tenantWhere(tenantId);
  const outer = new Where('o');
  checkMicros('fromMicros', filter.fromMicros);
  checkMicros('toMicros', filter.toMicros);
  if (filter.fromMicros !== undefined) {
    // Windows that ended before the range cannot hold an alert in it: the primary key skips them.
    inner.add(`window_start > fromUnixTimestamp64Micro(?v, 'UTC')`, {
      v: { type: 'Int64', value: filter.fromMicros - INCIDENT_WINDOW_SECONDS * 1_000_000 },
    });
    outer.add('last_micros >= ?v', { v: { type: 'Int64', value: filter.fromMicros } });
  }
  if (filter.toMicros !== undefined) {
    inner.add(`window_start < fromUnixTimestamp64Micro(?v, 'UTC')`, {
      v: { type: 'Int64', value: filter.toMicros },
    });
    outer.add('first_micros < ?v', { v: { type: 'Int64', value: filter.toMicros } });
  }
  if (filter.ruleIds !== undefined)
    inner.add('rule_id IN ?v', { v: { type: 'Array(String)', value: filter.ruleIds } });
  if (filter.workload !== undefined)
    inner.add('workload = ?v', { v: { type: 'String', value: filter.workload } });
  if (filter.severities !== undefined)
    outer.add('max_severity IN ?v', { v: { type: 'Array(String)', value: filter.severities } });
  if (filter.statuses !== undefined)
    outer.add('incident_status IN ?v', { v: { type: 'Array(String)', value: filter.statuses } });
  if (filter.namespace !== undefined)
    outer.add('namespace = ?v', { v: { type: 'String', value: filter.namespace } });
  if (filter.podName !== undefined)
    outer.add('pod_name = ?v', { v: { type: 'String', value: filter.podName } });
  if (filter.hostname !== undefined)
    outer.add('hostname = ?v', { v: { type: 'String', value: filter.hostname } });
  return { inner, outer };
}

interface SeverityCountRow {
  severity: AlertSeverity;
  n: number | string;
}

/** Counts per severity, 0 for the severities without rows. */
function severityCounts(rows: readonly SeverityCountRow[]): Record<AlertSeverity, number> {
  const counts: Record<AlertSeverity, number> = {
    info: 0,
    low: 0,
    medium: 0,
    high: 0,
    critical: 0,
  };
  for (const row of rows) counts[row.severity] = Number(row.n);
  return counts;
}

function toIncident(row: IncidentResultRow): StoredIncident {
  return {
    id: row.incident_id,
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    workload: {
      kind: row.workload_kind,
      key: row.workload,
      namespace: row.namespace,
      podName: row.pod_name,
      containerId: row.container_id,
      hostname: row.hostname,
    },
    windowStartUnixMicros: Number(row.window_seconds) * 1_000_000,
    severity: row.max_severity,
    title: row.sample_title,
    alertCount: Number(row.alert_count),
    firstSeenUnixMicros: Number(row.first_micros),
    lastSeenUnixMicros: Number(row.last_micros),
    status: row.incident_status,
    ...(row.triaged === true || row.triaged === 1
      ? {
          statusChange: {
            atMicros: Number(row.status_micros),
            actor: row.status_actor,
            note: row.status_note,
          },
        }
      : {}),
  };
}

function toEvent(row: EventResultRow): StoredEvent {
  return {
    id: row.id,
    agentId: row.agent_id,
    observedUnixMicros: Number(row.observed_micros),
    receivedUnixMicros: Number(row.received_micros),
    kind: row.kind as EventKind | '',
    hostname: row.hostname,
    workload: {
      namespace: row.namespace,
      podName: row.pod_name,
      containerId: row.container_id,
      containerName: row.container_name,
      imageRepository: row.image_repository,
      imageTag: row.image_tag,
      imageDigest: row.image_digest,
    },
    processName: row.process_name,
    pid: row.pid,
    commandLine: row.command_line,
    path: row.path,
    labels: row.labels,
    payload: row.event === '' ? (JSON.parse(row.payload) as unknown) : storedPayload(row.event),
  };
}

function toAlert(row: AlertResultRow): StoredAlert {
  return {
    id: row.id,
    observedUnixMicros: Number(row.observed_micros),
    updatedUnixMicros: Number(row.updated_micros),
    ruleId: row.rule_id,
    ruleName: row.rule_name,
    severity: row.severity,
    status: row.status,
    title: row.title,
    agentId: row.agent_id,
    eventId: row.event_id,
    hostname: row.hostname,
    namespace: row.namespace,
    podName: row.pod_name,
    containerId: row.container_id,
    imageRepository: row.image_repository,
    tags: row.tags,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

/** A page of `limit` items from `limit + 1` rows: the extra row only says that more exist. */
function toPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (row: R) => (string | number)[],
): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return {
    items: items.map(map),
    ...(more && last !== undefined ? { nextCursor: encodeCursor(cursorOf(last)) } : {}),
  };
}

/**
 * A Warehouse over an existing client whose database is already migrated (see `migrate`).
 * @throws MamoriError Config when `database` is not a plain identifier.
 */
/**
 * Rows as few buffers as possible: consecutive rows that lie next to each other in memory (the
 * rows of one encoding pass, or of one slab) become one view. A batch's rows are written with
 * one vectored write instead of being copied into one buffer first (~90 MB per 100k-row
 * batch, a copy that was a few per cent of the store's thread).
 */
/** Writes `chunks` to a new file at `path`, with vectored writes of at most IOV_MAX buffers. */
async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const IOV_MAX = 1024;
  const file = await open(path, 'w');
  try {
    for (let i = 0; i < chunks.length; i += IOV_MAX) {
      const part = chunks.slice(i, i + IOV_MAX);
      const { bytesWritten } = await file.writev(part);
      // A regular file takes a whole write unless the disk fills; finish one that was short.
      let skip = bytesWritten;
      for (const chunk of part) {
        if (skip >= chunk.byteLength) {
          skip -= chunk.byteLength;
          continue;
        }
        let rest = chunk.subarray(skip);
        while (rest.byteLength > 0) rest = rest.subarray((await file.write(rest)).bytesWritten);
        skip = 0;
      }
    }
  } finally {
    await file.close();
  }
}

function coalesce(rows: readonly Uint8Array[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let first = rows[0]!;
  let start = first.byteOffset;
  let end = start + first.byteLength;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.buffer === first.buffer && row.byteOffset === end) {
      end += row.byteLength;
      continue;
    }
    chunks.push(new Uint8Array(first.buffer, start, end - start));
    first = row;
    start = row.byteOffset;
    end = start + row.byteLength;
  }
  chunks.push(new Uint8Array(first.buffer, start, end - start));
  return chunks;
}

export function createWarehouse(options: CreateWarehouseOptions): Warehouse {
  const { client } = options;
  const db = options.database ?? 'mamori';
  if (!DATABASE_NAME.test(db)) {
    throw new MamoriError(ErrorCode.Config, 'database must be a plain identifier', {
      context: { database: db },
    });
  }

  const staging = options.stagingDir === undefined ? undefined : resolve(options.stagingDir);
  if (staging !== undefined) {
    mkdirSync(staging, { recursive: true });
    // Files of inserts a crash interrupted (of other processes: this one may already have
    // inserts staged by another warehouse, as the store and the API share chDB in
    // `mamori start`). Their records were not committed and come again.
    const mine = `events-${process.pid}-`;
    for (const name of readdirSync(staging)) {
      if (!name.startsWith(mine)) rmSync(join(staging, name), { force: true });
    }
  }
  const codec = createEventCodec();

  async function insertRows(rows: readonly Uint8Array[]): Promise<void> {
    if (rows.length === 0) return;
    const body = coalesce(rows);
    if (staging === undefined) {
      // RowBinary is not among the client's insert formats: the statement names it, and
      // the rows are the request's body.
      // The client's own typing of the response stream does not resolve here: it is a Readable.
      const { stream } = (await client.exec({
        query: `INSERT INTO ${db}.events (${EVENT_ROW_COLUMNS.join(', ')}) FORMAT ${EVENT_ROW_FORMAT}`,
        values: Readable.from(body, { objectMode: false }),
      })) as { stream: Readable };
      // Nothing comes back from an insert; the body is read to free the connection.
      stream.resume();
      await finished(stream);
      return;
    }
    const path = join(staging, `events-${process.pid}-${stagedInProcess++}.bin`);
    await writeChunks(path, body);
    try {
      await client.command({
        query: `INSERT INTO ${db}.events (${EVENT_ROW_COLUMNS.join(', ')})
          SELECT * FROM file({path:String}, '${EVENT_ROW_FORMAT}', {structure:String})`,
        query_params: { path, structure: EVENT_ROW_STRUCTURE },
      });
    } finally {
      await unlink(path).catch(() => undefined);
    }
  }

  async function select<R>(query: string, params: Record<string, unknown>): Promise<R[]> {
    const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<R>();
  }

  /** A page of the alerts `where` picks, newest first. */
  async function alertsPage(where: Where, page: PageRequest): Promise<Page<StoredAlert>> {
    const limit = pageLimit(page);
    if (page.cursor !== undefined) {
      const [micros, id] = decodeCursor(page.cursor, ['number', 'string'] as const);
      where.add(
        `observed_at <= fromUnixTimestamp64Micro(?t, 'UTC')
          AND (observed_at, id) < (fromUnixTimestamp64Micro(?t, 'UTC'), ?i)`,
        { t: { type: 'Int64', value: micros }, i: { type: 'String', value: id } },
      );
    }
    const rows = await select<AlertResultRow>(
      `SELECT ${ALERT_COLUMNS}
      FROM ${db}.alerts FINAL
      WHERE ${where.toString()}
      ORDER BY observed_at DESC, id DESC
      LIMIT {limit:UInt32}`,
      { ...where.params, limit: limit + 1 },
    );
    return toPage(rows, limit, toAlert, (r) => [Number(r.observed_micros), r.id]);
  }

  /**
   * The keys of the first `want` incidents that `inner` and `outer` pick (see `incidentsSql`),
   * the most recently seen first, probing back in time window by window instead of merging
   * every key of the tenant: with alerts that hardly roll up (250k alerts of a tenant in ~140k
   * incidents) merging them all took 115–160 ms a page in bench:query, ~0.5 s under load.
   *
   * Exact because an incident's last seen lies inside its window, and windows are aligned to
   * INCIDENT_WINDOW_SECONDS: every incident of a window after `lo` was last seen at or after
   * `lo + INCIDENT_WINDOW_SECONDS`, every incident of window `lo` or before it earlier. So the
   * incidents of the windows (lo, hi], sorted, all come before those of the windows up to `lo`:
   * a probe's rows are final, and a probe that finds too few is followed by one further back
   * (INCIDENT_PROBE) for the rest of the page. Every partial aggregate of a key lies in its
   * window, so a probe merges whole incidents. `oldest` (seconds) is a window bound `inner`
   * already keeps to: a probe that reaches it is the last. `status`: whether `outer` filters
   * on the status.
   */
  async function newestIncidentKeys(options: {
    tenantId: string;
    inner: Where;
    outer: Where;
    status: boolean;
    want: number;
    oldest: number | undefined;
  }): Promise<IncidentKeyRow[]> {
    const { tenantId, inner, outer, status, want, oldest } = options;
    // The probes start at the newest window that `inner` allows, not at the current hour (a
    // tenant may have been quiet for days). The first probe finds it itself, in a subquery
    // that reads the key backwards, and says which it was: one query for most pages.
    const newestSql = `(SELECT window_start FROM ${db}.incidents
          WHERE ${inner.toString()} ORDER BY window_start DESC LIMIT 1)`;
    const keys: IncidentKeyRow[] = [];
    let windows: number = INCIDENT_PROBE.firstWindows;
    let hi: number | undefined;
    for (let probe = 0; ; probe++) {
      const span = windows * INCIDENT_WINDOW_SECONDS;
      const lo = hi === undefined ? undefined : hi - span;
      const last =
        probe === INCIDENT_PROBE.bounded ||
        (oldest !== undefined && lo !== undefined && lo <= oldest);
      const keySql =
        hi === undefined
          ? `
        AND window_start <= ${newestSql}
        AND window_start > ${newestSql} - {probe_span:UInt32}`
          : `
        AND window_start <= {probe_hi:DateTime('UTC')}${
          last ? '' : " AND window_start > {probe_lo:DateTime('UTC')}"
        }`;
      const found = await select<IncidentKeyRow & { newest_window?: number | string }>(
        `SELECT incident_id, window_seconds, rule_id, workload, last_micros${
          hi === undefined ? `, toUnixTimestamp(${newestSql}) AS newest_window` : ''
        }
          FROM (${incidentsSql(db, inner, outer, { keySql, status })})
          ORDER BY last_micros DESC, incident_id DESC
          LIMIT {limit:UInt32}`,
        {
          ...inner.params,
          ...outer.params,
          tenant: tenantId,
          ...(hi === undefined ? { probe_span: span } : { probe_hi: hi }),
          ...(lo === undefined || last ? {} : { probe_lo: lo }),
          limit: want - keys.length,
        },
      );
      keys.push(...found);
      if (last || keys.length >= want) return keys;
      if (hi === undefined) {
        // The first probe found too few: the rest is read window by window from where it
        // ended, the newest window as it saw it (so that probes never overlap), or, when it
        // found nothing, as it is now.
        let newest =
          found[0]?.newest_window !== undefined ? Number(found[0].newest_window) : undefined;
        if (newest === undefined) {
          const [row] = await select<{ window_seconds: number | string }>(
            `SELECT toUnixTimestamp(window_start) AS window_seconds
            FROM ${db}.incidents
            WHERE ${inner.toString()}
            ORDER BY window_start DESC
            LIMIT 1`,
            inner.params,
          );
          if (row === undefined) return keys;
          newest = Number(row.window_seconds);
        }
        hi = newest - span;
      } else {
        hi -= span;
      }
      windows *= INCIDENT_PROBE.growth;
    }
  }

  /**
   * The incidents of `keys` in full, with their alert counts and status, in the order of
   * `keys`. Only these incidents' states are merged, found by window (the primary key) and id:
   * what a page shows costs in proportion to the page, not to the tenant's incidents.
   */
  async function incidentsOf(
    tenantId: string,
    keys: readonly IncidentKeyRow[],
  ): Promise<IncidentResultRow[]> {
    if (keys.length === 0) return [];
    // By id rather than by (window, rule, workload): a set of tuples in the primary key
    // condition took ~4 ms more to analyse than the page's rows took to read (50 keys).
    const ids = keys.map((k) => k.incident_id);
    const inner = tenantWhere(tenantId)
      .add('window_start IN ?w', {
        w: {
          type: "Array(DateTime('UTC'))",
          value: [...new Set(keys.map((k) => Number(k.window_seconds)))],
        },
      })
      .add('id IN ?i', { i: { type: 'Array(String)', value: ids } });
    const rows = await select<IncidentResultRow>(
      incidentsSql(db, inner, new Where('o'), {
        counts: true,
        statusSql: ' AND incident_id IN {ids:Array(String)}',
      }),
      { ...inner.params, tenant: tenantId, ids },
    );
    const byId = new Map(rows.map((row) => [row.incident_id, row]));
    return keys.flatMap((k) => byId.get(k.incident_id) ?? []);
  }

  async function incidentExists(tenantId: string, id: string): Promise<boolean> {
    const rows = await select<{ found: number }>(
      `SELECT 1 AS found FROM ${db}.incidents
      WHERE tenant_id = {tenant:String} AND id = {id:String}
      LIMIT 1`,
      { tenant: tenantId, id },
    );
    return rows.length > 0;
  }

  return {
    client,
    database: db,

    insertEventRows: insertRows,

    async insertEvents(events) {
      if (events.length === 0) return;
      const out = createRowBuffer();
      for (const event of events) appendEventRow(out, codec.encode(event));
      await insertRows([out.bytes.subarray(0, out.length)]);
    },

    async insertAlerts(alerts) {
      if (alerts.length === 0) return;
      await client.insert({
        table: `${db}.alerts`,
        values: alerts.map((a) => ({
          tenant_id: a.tenantId,
          observed_at: a.observedUnixMicros,
          id: a.id,
          // The version of a fresh alert is its own (deterministic) time, older than any
          // status change, so a replayed alert loses against an analyst's decision.
          updated_at: a.observedUnixMicros,
          rule_id: a.ruleId,
          rule_name: a.ruleName,
          severity: a.severity,
          status: 'open',
          title: a.title,
          agent_id: a.agentId,
          event_id: a.eventId,
          hostname: a.hostname ?? '',
          namespace: a.namespace ?? '',
          pod_name: a.podName ?? '',
          container_id: a.containerId ?? '',
          image_repository: a.imageRepository ?? '',
          tags: a.tags ?? [],
          details: JSON.stringify(a.details ?? {}),
        })),
        format: 'JSONEachRow',
      });
    },

    async setAlertStatus(tenantId, ids, status, options = {}) {
      checkTenant(tenantId);
      const { actor, note, atMicros } = triage(options);
      if (ids.length === 0) return;
      const params = { tenant: tenantId, ids, status, at: atMicros };
      // The audit first: a change that fails after it leaves an entry for a change tried, never
      // a change without its entry. Only ids of the tenant's alerts get one.
      await client.command({
        query: `INSERT INTO ${db}.triage_audit
          (tenant_id, target_type, target_id, at, entry_id, action, actor, note)
          SELECT {tenant:String}, 'alert', id, fromUnixTimestamp64Micro({at:Int64}, 'UTC'),
            generateUUIDv4(id), {action:String}, {actor:String}, {note:String}
          FROM (
            SELECT DISTINCT id FROM ${db}.alerts
            WHERE tenant_id = {tenant:String} AND id IN {ids:Array(String)}
          )`,
        query_params: { ...params, action: ACTION_OF[status], actor, note },
      });
      await client.command({
        query: `INSERT INTO ${db}.alerts
          SELECT * REPLACE (
            {status:String} AS status,
            fromUnixTimestamp64Micro({at:Int64}, 'UTC') AS updated_at
          )
          FROM ${db}.alerts FINAL
          WHERE tenant_id = {tenant:String} AND id IN {ids:Array(String)}`,
        query_params: params,
      });
    },

    async upsertAgents(agents) {
      if (agents.length === 0) return;
      await client.insert({
        table: `${db}.agents`,
        values: agents.map((a) => ({
          tenant_id: a.tenantId,
          agent_id: a.agentId,
          last_seen_at: a.lastSeenUnixMicros,
          hostname: a.hostname,
          agent_version: a.agentVersion,
          capabilities: a.capabilities,
          policy_version: a.policyVersion,
          connected: a.connected ?? true,
        })),
        format: 'JSONEachRow',
      });
    },

    async listEvents(tenantId, filter = {}, page = {}) {
      const limit = pageLimit(page);
      const where = eventWhere(tenantId, filter);
      if (page.cursor !== undefined) {
        const [micros, agentId, id] = decodeCursor(page.cursor, [
          'number',
          'string',
          'string',
        ] as const);
        // The plain bound lets the primary key skip newer granules; the tuple breaks ties.
        where.add(
          `observed_at <= fromUnixTimestamp64Micro(?t, 'UTC')
            AND (observed_at, agent_id, id) < (fromUnixTimestamp64Micro(?t, 'UTC'), ?a, ?i)`,
          {
            t: { type: 'Int64', value: micros },
            a: { type: 'String', value: agentId },
            i: { type: 'String', value: id },
          },
        );
      }
      // Copies of an event (a retried insert, not merged yet) are identical rows with the same
      // sort key, so they come out side by side and are skipped here. Without FINAL the
      // newest granules are read first and reading stops at the page: 15 ms instead of 85 ms
      // (FINAL) or 170 ms (LIMIT 1 BY) for the first page over 5 M events of a tenant. Twice
      // the page is read so that copies rarely shorten it; when they do, FINAL decides.
      const query = (final: boolean, rowLimit: number) =>
        select<EventResultRow>(
          `SELECT ${EVENT_COLUMNS}
          FROM ${db}.events${final ? ' FINAL' : ''}
          WHERE ${where.toString()}
          ORDER BY observed_at DESC, agent_id DESC, id DESC
          LIMIT {limit:UInt32}
          ${final ? `SETTINGS ${EVENTS_FINAL_SETTINGS}` : ''}`,
          { ...where.params, limit: rowLimit },
        );
      const read = 2 * (limit + 1);
      const raw = await query(false, read);
      let rows = raw.filter(
        (row, i) =>
          i === 0 ||
          row.id !== raw[i - 1]!.id ||
          row.agent_id !== raw[i - 1]!.agent_id ||
          row.observed_micros !== raw[i - 1]!.observed_micros,
      );
      if (rows.length <= limit && raw.length === read) rows = await query(true, limit + 1);
      return toPage(rows, limit, toEvent, (r) => [Number(r.observed_micros), r.agent_id, r.id]);
    },

    async countEvents(tenantId, filter, bucketSeconds) {
      if (!Number.isSafeInteger(bucketSeconds) || bucketSeconds < 1) {
        throw new MamoriError(ErrorCode.Validation, 'bucketSeconds must be a positive integer', {
          context: { field: 'bucketSeconds' },
        });
      }
      const where = eventWhere(tenantId, filter);
      const rows = await select<{ bucket: number | string; n: number | string }>(
        `SELECT intDiv(toUnixTimestamp64Micro(observed_at), {bucket:Int64}) * {bucket:Int64} AS bucket,
          count() AS n
        FROM ${db}.events FINAL
        WHERE ${where.toString()}
        GROUP BY bucket
        ORDER BY bucket
        SETTINGS ${EVENTS_FINAL_SETTINGS}`,
        { ...where.params, bucket: bucketSeconds * 1_000_000 },
      );
      return rows.map((r) => ({ startMicros: Number(r.bucket), count: Number(r.n) }));
    },

    listAlerts: (tenantId, filter = {}, page = {}) =>
      alertsPage(alertWhere(tenantId, filter), page),

    async countAlertsBySeverity(tenantId, filter = {}) {
      const where = alertWhere(tenantId, filter);
      const rows = await select<SeverityCountRow>(
        `SELECT severity, count() AS n
        FROM ${db}.alerts FINAL
        WHERE ${where.toString()}
        GROUP BY severity`,
        where.params,
      );
      return severityCounts(rows);
    },

    async listIncidents(tenantId, filter = {}, page = {}) {
      const limit = pageLimit(page);
      const { inner, outer } = incidentWheres(tenantId, filter);
      if (page.cursor !== undefined) {
        const [micros, id] = decodeCursor(page.cursor, ['number', 'string'] as const);
        // An incident's last seen lies in its window: windows that start after the cursor hold
        // no incident before it.
        inner.add(`window_start <= fromUnixTimestamp64Micro(?t, 'UTC')`, {
          t: { type: 'Int64', value: micros },
        });
        outer.add('(last_micros, incident_id) < (?t, ?i)', {
          t: { type: 'Int64', value: micros },
          i: { type: 'String', value: id },
        });
      }
      const oldest =
        filter.fromMicros === undefined
          ? undefined
          : Math.floor(filter.fromMicros / 1_000_000) - INCIDENT_WINDOW_SECONDS;
      const keys = await newestIncidentKeys({
        tenantId,
        inner,
        outer,
        status: filter.statuses !== undefined,
        want: limit + 1,
        oldest,
      });
      // The extra key only says that more exist; the cursor is the last shown key's, as the
      // order saw it.
      const rows = await incidentsOf(tenantId, keys.slice(0, limit));
      const last = keys[limit - 1];
      return {
        items: rows.map(toIncident),
        ...(keys.length > limit && last !== undefined
          ? { nextCursor: encodeCursor([Number(last.last_micros), last.incident_id]) }
          : {}),
      };
    },

    async countIncidentsBySeverity(tenantId, filter = {}) {
      const { inner, outer } = incidentWheres(tenantId, filter);
      const rows = await select<SeverityCountRow>(
        `SELECT max_severity AS severity, count() AS n
        FROM (${incidentsSql(db, inner, outer, { status: filter.statuses !== undefined })})
        GROUP BY severity`,
        { ...inner.params, ...outer.params, tenant: tenantId },
      );
      return severityCounts(rows);
    },

    async getIncident(tenantId, id, alerts = {}) {
      const inner = tenantWhere(tenantId).add('id = ?v', { v: { type: 'String', value: id } });
      const [row] = await select<IncidentResultRow>(
        incidentsSql(db, inner, new Where('o'), { counts: true }),
        { ...inner.params, tenant: tenantId },
      );
      if (row === undefined) return undefined;
      const incident = toIncident(row);
      const start = incident.windowStartUnixMicros;
      const where = alertWhere(tenantId, {
        fromMicros: start,
        toMicros: start + INCIDENT_WINDOW_SECONDS * 1_000_000,
        ruleIds: [incident.ruleId],
      }).add(`${ALERT_WORKLOAD} = ?v`, { v: { type: 'String', value: incident.workload.key } });
      return { ...incident, alerts: await alertsPage(where, alerts) };
    },

    async setIncidentStatus(tenantId, id, status, options = {}) {
      checkTenant(tenantId);
      const { actor, note, atMicros } = triage(options);
      if (!(await incidentExists(tenantId, id))) return false;
      // The audit first, as for alerts.
      await client.insert({
        table: `${db}.triage_audit`,
        values: [
          {
            tenant_id: tenantId,
            target_type: 'incident',
            target_id: id,
            at: atMicros,
            entry_id: randomUUID(),
            action: ACTION_OF[status],
            actor,
            note,
          },
        ],
        format: 'JSONEachRow',
      });
      await client.insert({
        table: `${db}.incident_status`,
        values: [
          { tenant_id: tenantId, incident_id: id, updated_at: atMicros, status, actor, note },
        ],
        format: 'JSONEachRow',
      });
      return true;
    },

    async recordAudit(tenantId, entry) {
      checkTenant(tenantId);
      const { targetType, targetId, action, actor, note, atMicros } = auditRecord(entry);
      await client.insert({
        table: `${db}.triage_audit`,
        values: [
          {
            tenant_id: tenantId,
            target_type: targetType,
            target_id: targetId,
            at: atMicros,
            entry_id: randomUUID(),
            action,
            actor,
            note,
          },
        ],
        format: 'JSONEachRow',
      });
    },

    async listAudit(tenantId, target, page = {}) {
      const limit = pageLimit(page);
      const where = tenantWhere(tenantId);
      checkAuditTargetType(target.type);
      // Without an id, every target of the type: the sort key's prefix (tenant, type) still
      // bounds what is read.
      where.add('target_type = ?v', { v: { type: 'String', value: target.type } });
      if (target.id !== undefined)
        where.add('target_id = ?v', { v: { type: 'String', value: target.id } });
      if (page.cursor !== undefined) {
        const [micros, entry] = decodeCursor(page.cursor, ['number', 'string'] as const);
        where.add(`(at, entry_id) < (fromUnixTimestamp64Micro(?t, 'UTC'), toUUIDOrZero(?e))`, {
          t: { type: 'Int64', value: micros },
          e: { type: 'String', value: entry },
        });
      }
      const rows = await select<{
        target_type: AuditTargetType;
        target_id: string;
        at_micros: number | string;
        entry: string;
        action: AuditAction;
        actor: string;
        note: string;
      }>(
        `SELECT target_type, target_id, toUnixTimestamp64Micro(at) AS at_micros,
          toString(entry_id) AS entry, action, actor, note
        FROM ${db}.triage_audit
        WHERE ${where.toString()}
        ORDER BY at DESC, entry_id DESC
        LIMIT {limit:UInt32}`,
        { ...where.params, limit: limit + 1 },
      );
      return toPage(
        rows,
        limit,
        (r) => ({
          targetType: r.target_type,
          targetId: r.target_id,
          action: r.action,
          actor: r.actor,
          atMicros: Number(r.at_micros),
          note: r.note,
        }),
        (r) => [Number(r.at_micros), r.entry],
      );
    },

    async listAgents(tenantId, page = {}) {
      const limit = pageLimit(page);
      const where = tenantWhere(tenantId);
      if (page.cursor !== undefined) {
        const [agentId] = decodeCursor(page.cursor, ['string'] as const);
        where.add('agent_id > ?a', { a: { type: 'String', value: agentId } });
      }
      const rows = await select<{
        agent_id: string;
        last_seen_micros: number | string;
        hostname: string;
        agent_version: string;
        capabilities: string[];
        policy_version: string;
        connected: boolean;
      }>(
        `SELECT agent_id, toUnixTimestamp64Micro(last_seen_at) AS last_seen_micros, hostname,
          agent_version, capabilities, policy_version, connected
        FROM ${db}.agents FINAL
        WHERE ${where.toString()}
        ORDER BY agent_id
        LIMIT {limit:UInt32}`,
        { ...where.params, limit: limit + 1 },
      );
      return toPage(
        rows,
        limit,
        (r) => ({
          agentId: r.agent_id,
          lastSeenUnixMicros: Number(r.last_seen_micros),
          hostname: r.hostname,
          agentVersion: r.agent_version,
          capabilities: r.capabilities,
          policyVersion: r.policy_version,
          connected: r.connected,
        }),
        (r) => [r.agent_id],
      );
    },

    async listWorkloads(tenantId, filter = {}, page = {}) {
      const limit = pageLimit(page);
      const where = tenantWhere(tenantId);
      if (filter.namespace !== undefined)
        where.add('namespace = ?v', { v: { type: 'String', value: filter.namespace } });
      if (page.cursor !== undefined) {
        const [namespace, pod] = decodeCursor(page.cursor, ['string', 'string'] as const);
        where.add('(namespace, pod_name) > (?n, ?p)', {
          n: { type: 'String', value: namespace },
          p: { type: 'String', value: pod },
        });
      }
      // Conditions on a container's attributes pick the pods; the pod is then shown whole.
      const having = new Where('h');
      if (filter.image !== undefined) addImage(having, filter.image);
      if (filter.hostname !== undefined)
        having.add('hostname = ?v', { v: { type: 'String', value: filter.hostname } });
      checkMicros('seenSinceMicros', filter.seenSinceMicros);
      if (filter.seenSinceMicros !== undefined) {
        having.add("last_seen_at >= fromUnixTimestamp64Micro(?v, 'UTC')", {
          v: { type: 'Int64', value: filter.seenSinceMicros },
        });
      }
      const rows = await select<{
        namespace: string;
        pod_name: string;
        containers: [
          string,
          string,
          string,
          boolean,
          string,
          string,
          string,
          string,
          string,
          string,
        ][];
        matched: number | string;
      }>(
        `SELECT namespace, pod_name,
          groupArray((container_id, container_name, container_runtime, privileged,
            image_repository, image_tag, image_digest, hostname,
            toString(toUnixTimestamp64Micro(first_seen_at)),
            toString(toUnixTimestamp64Micro(last_seen_at)))) AS containers,
          countIf(${having.conditions.length === 0 ? '1' : having.toString()}) AS matched
        FROM (
          SELECT namespace, pod_name, container_id,
            any(container_name) AS container_name, any(container_runtime) AS container_runtime,
            max(privileged) AS privileged, any(image_repository) AS image_repository,
            any(image_tag) AS image_tag, any(image_digest) AS image_digest,
            any(hostname) AS hostname, min(first_seen_at) AS first_seen_at,
            max(last_seen_at) AS last_seen_at
          FROM ${db}.workloads
          WHERE ${where.toString()}
          GROUP BY namespace, pod_name, container_id
        )
        GROUP BY namespace, pod_name
        HAVING matched > 0
        ORDER BY namespace, pod_name
        LIMIT {limit:UInt32}`,
        { ...where.params, ...having.params, limit: limit + 1 },
      );
      return toPage(
        rows,
        limit,
        (r) => {
          const containers = r.containers
            .map(([id, name, runtime, privileged, repo, tag, digest, hostname, first, last]) => ({
              containerId: id,
              containerName: name,
              runtime,
              privileged,
              imageRepository: repo,
              imageTag: tag,
              imageDigest: digest,
              hostname,
              firstSeenUnixMicros: Number(first),
              lastSeenUnixMicros: Number(last),
            }))
            .sort((a, b) => a.containerName.localeCompare(b.containerName));
          return {
            namespace: r.namespace,
            podName: r.pod_name,
            containers,
            images: [
              ...new Set(
                containers.map((c) =>
                  c.imageTag
                    ? `${c.imageRepository}:${c.imageTag}`
                    : c.imageDigest || c.imageRepository,
                ),
              ),
            ].sort(),
            hosts: [...new Set(containers.map((c) => c.hostname))].sort(),
            firstSeenUnixMicros: Math.min(...containers.map((c) => c.firstSeenUnixMicros)),
            lastSeenUnixMicros: Math.max(...containers.map((c) => c.lastSeenUnixMicros)),
          };
        },
        (r) => [r.namespace, r.pod_name],
      );
    },

    async close() {
      if (options.ownsClient) await client.close();
    },
  };
}

/**
 * Connects to the configured warehouse and brings its schema up to date: what a service
 * calls at start.
 * @throws MamoriError Config (see createWarehouseClient); ClickHouseError when a migration fails.
 */
export async function openWarehouse(
  config: WarehouseConfig,
  options: WarehouseClientOptions = {},
): Promise<{ warehouse: Warehouse; migrations: MigrationReport }> {
  const client = createWarehouseClient(config, options);
  try {
    const migrations = await migrate(client, {
      database: config.database,
      retentionDays: config.retentionDays,
    });
    return {
      warehouse: createWarehouse({
        client,
        database: config.database,
        ownsClient: true,
        ...(config.kind === 'embedded' ? { stagingDir: join(config.path, 'mamori-staging') } : {}),
      }),
      migrations,
    };
  } catch (err) {
    await client.close();
    throw err;
  }
}
