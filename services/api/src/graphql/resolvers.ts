import { isMamoriError } from '@mamori/common';
import {
  ALERT_SEVERITIES,
  INCIDENT_WINDOW_SECONDS,
  type AlertFilter,
  type AlertSeverity,
  type AlertStatus,
  type AuditAction,
  type AuditEntry,
  type AuditTargetType,
  type EventFilter,
  type EventKind,
  type IncidentFilter,
  type IncidentStatus,
  type Page,
  type PageRequest,
  type StoredAgent,
  type StoredEvent,
  type StoredIncident,
  type Warehouse,
  type WorkloadListFilter,
} from '@mamori/warehouse';
import type {
  Policy__Output,
  RuleTuning__Output,
  WaasException__Output,
  WaasRateLimits__Output,
  WebApplicationPolicy__Output,
} from '@mamori/proto';
import { compilePolicies, type CompiledRule } from '@mamori/rules';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { Caller, Role } from '../auth/tokens.js';
import type { ApiLimits } from '../config.js';
import {
  policyOfInput,
  policyProblems,
  policySetBytes,
  type PolicyInput,
} from '../policies/policy-input.js';
import type { PolicyTopic } from '../policies/policy-topic.js';
import {
  exceptionOfInput,
  kindMismatch,
  type CatalogRule,
  type RuleExceptionInput,
} from '../tuning/exception-input.js';
import type { TuningTopic } from '../tuning/tuning-topic.js';
import { discoverApi, MAX_DISCOVERY_REQUESTS } from '../discovery/discovered-api.js';

/** What the warehouse must offer the resolvers. */
export type ApiWarehouse = Pick<
  Warehouse,
  | 'listEvents'
  | 'countEvents'
  | 'listAlerts'
  | 'countAlertsBySeverity'
  | 'setAlertStatus'
  | 'listAgents'
  | 'listWorkloads'
  | 'listIncidents'
  | 'countIncidentsBySeverity'
  | 'getIncident'
  | 'setIncidentStatus'
  | 'recordAudit'
  | 'listAudit'
>;

/** What every resolver gets: the caller (from the token) and the warehouse. */
export interface ApiContext {
  caller: Caller;
  warehouse: ApiWarehouse;
  limits: ApiLimits;
  connectedWithinSeconds: number;
  /** The policies topic; undefined when the API has no bus (policy fields then fail). */
  policies?: PolicyTopic;
  /** The rule tuning and catalog topics; undefined when the API has no bus. */
  tuning?: TuningTopic;
}

/** `extensions.code` of the errors this API raises on purpose. */
export const ApiErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Unauthenticated: 'UNAUTHENTICATED',
  Timeout: 'TIMEOUT',
  /** The API has no bus (standalone without MAMORI_BUS), or the bus failed: retry later. */
  PoliciesUnavailable: 'POLICIES_UNAVAILABLE',
  /** Likewise for rules and their exceptions and settings. */
  TuningUnavailable: 'TUNING_UNAVAILABLE',
  Internal: 'INTERNAL_SERVER_ERROR',
} as const;

function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ApiErrorCode.BadUserInput, ...(field ? { field } : {}) },
  });
}

// ---- scalars ------------------------------------------------------------------------------

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Microseconds since the epoch of an ISO 8601 instant, or undefined when it is not one. */
export function parseInstant(text: string): number | undefined {
  const match = ISO.exec(text);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return ms * 1000 + Number((match[2] ?? '').padEnd(6, '0').slice(0, 6));
}

/** ISO 8601 in UTC with microseconds. */
export function formatInstant(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(fraction).padStart(6, '0')}Z`;
}

const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => formatInstant(Number(value)),
  parseValue: (value) => {
    const micros = typeof value === 'string' ? parseInstant(value) : undefined;
    if (micros === undefined) throw badInput('DateTime: expected an ISO 8601 instant');
    return micros;
  },
  parseLiteral: (ast) => {
    const micros = ast.kind === Kind.STRING ? parseInstant(ast.value) : undefined;
    if (micros === undefined) throw badInput('DateTime: expected an ISO 8601 instant');
    return micros;
  },
});

const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
});

// ---- pagination ---------------------------------------------------------------------------

/** The warehouse's largest page (packages/warehouse). */
const WAREHOUSE_MAX_LIMIT = 1000;

/**
 * An API cursor: a warehouse cursor (the start of a warehouse page) and how many items of that
 * page come before. Every edge gets one, which the warehouse's page cursors alone cannot give.
 */
interface Position {
  c?: string;
  s: number;
}

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (value !== null && typeof value === 'object') {
      const { c, s } = value as Record<string, unknown>;
      if ((c === undefined || typeof c === 'string') && Number.isSafeInteger(s) && Number(s) >= 0)
        return c === undefined ? { s: Number(s) } : { c, s: Number(s) };
    }
  } catch {
    // reported below
  }
  throw badInput('after: not a cursor of this connection', 'after');
}

interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
}

interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GraphQLError(`the query took longer than ${ms} ms`, {
            extensions: { code: ApiErrorCode.Timeout },
          }),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs a warehouse call with the query timeout, turning its validation errors into BAD_USER_INPUT. */
async function query<T>(context: ApiContext, run: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(run(), context.limits.queryTimeoutMs);
  } catch (err) {
    if (isMamoriError(err, 'MAMORI_VALIDATION')) {
      const field = err.context['field'];
      throw badInput(err.message, typeof field === 'string' ? field : undefined);
    }
    throw err;
  }
}

async function connection<T>(
  context: ApiContext,
  args: ConnectionArgs,
  fetch: (page: PageRequest) => Promise<Page<T>>,
): Promise<Connection<T>> {
  const first = args.first ?? 50;
  const max = context.limits.maxPageSize;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw badInput(`first: must be between 1 and ${max}`, 'first');
  }
  let { c, s } = args.after ? decodeCursor(args.after) : { c: undefined, s: 0 };
  const empty: Connection<T> = {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
  // Skip whole warehouse pages when the position lies further into one than a page can reach.
  while (s + first > WAREHOUSE_MAX_LIMIT) {
    const limit = Math.min(s, WAREHOUSE_MAX_LIMIT);
    const skipped = await query(context, () => fetch({ limit, ...(c ? { cursor: c } : {}) }));
    if (skipped.nextCursor === undefined) return empty;
    s -= skipped.items.length;
    c = skipped.nextCursor;
  }
  const page = await query(context, () => fetch({ limit: s + first, ...(c ? { cursor: c } : {}) }));
  const items = page.items.slice(s);
  const edges = items.map((node, index) => ({
    node,
    cursor:
      index === items.length - 1 && page.nextCursor !== undefined
        ? encodeCursor({ c: page.nextCursor, s: 0 })
        : encodeCursor(c ? { c, s: s + index + 1 } : { s: s + index + 1 }),
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.nextCursor !== undefined,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

// ---- filters ------------------------------------------------------------------------------

interface TimeArgs {
  from?: number | null;
  to?: number | null;
}

interface EventFilterArgs extends TimeArgs {
  hostname?: string | null;
  agentId?: string | null;
  namespace?: string | null;
  podName?: string | null;
  containerId?: string | null;
  image?: string | null;
  kinds?: EventKind[] | null;
  processName?: string | null;
  text?: string | null;
}

interface AlertFilterArgs extends TimeArgs {
  severities?: AlertSeverity[] | null;
  ruleIds?: string[] | null;
  statuses?: AlertStatus[] | null;
  namespace?: string | null;
  podName?: string | null;
  containerId?: string | null;
  image?: string | null;
}

interface IncidentFilterArgs extends TimeArgs {
  severities?: AlertSeverity[] | null;
  ruleIds?: string[] | null;
  statuses?: IncidentStatus[] | null;
  namespace?: string | null;
  podName?: string | null;
  hostname?: string | null;
  workload?: string | null;
}

interface WorkloadFilterArgs {
  namespace?: string | null;
  image?: string | null;
  hostname?: string | null;
  seenSince?: number | null;
}

/** The fields given (not null) of a GraphQL input object, renaming from/to. */
function defined<T extends object>(input: T | null | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input ?? {})) {
    if (value === null || value === undefined) continue;
    if (key === 'from') result['fromMicros'] = value;
    else if (key === 'to') result['toMicros'] = value;
    else if (key === 'seenSince') result['seenSinceMicros'] = value;
    else result[key] = value;
  }
  return result;
}

// ---- resolvers ----------------------------------------------------------------------------

function requireRole(context: ApiContext, roles: readonly Role[], action: string): void {
  if (!roles.includes(context.caller.role)) {
    throw new GraphQLError(`${action}: not allowed for role ${context.caller.role}`, {
      extensions: { code: ApiErrorCode.Forbidden },
    });
  }
}

interface AlertConnectionSource extends Connection<unknown> {
  filter: AlertFilter;
}

interface IncidentConnectionSource extends Connection<unknown> {
  filter: IncidentFilter;
}

/** Roles that may change a triage status. */
const TRIAGERS: readonly Role[] = ['admin', 'analyst'];

/** Per-severity counts with their total. */
function withTotal(counts: Record<AlertSeverity, number>) {
  return {
    ...counts,
    total: ALERT_SEVERITIES.reduce((sum, severity) => sum + counts[severity], 0),
  };
}

/** An incident without its page of alerts: `Incident.alerts` reads the page its arguments ask. */
async function incidentOf(context: ApiContext, id: string): Promise<StoredIncident | undefined> {
  // One alert: the smallest page getIncident reads; the field resolver reads the real one.
  const found = await query(context, () =>
    context.warehouse.getIncident(context.caller.tenantId, id, { limit: 1 }),
  );
  if (found === undefined) return undefined;
  const { alerts: _alerts, ...incident } = found;
  return incident;
}

/** A mutation that sets an incident's status and answers the incident as it now is. */
function triageIncident(status: IncidentStatus, name: string) {
  return async (_: unknown, args: { id: string; note?: string | null }, context: ApiContext) => {
    requireRole(context, TRIAGERS, name);
    const found = await query(context, () =>
      context.warehouse.setIncidentStatus(context.caller.tenantId, args.id, status, {
        actor: context.caller.actor,
        ...(args.note == null ? {} : { note: args.note }),
      }),
    );
    const incident = found ? await incidentOf(context, args.id) : undefined;
    if (incident === undefined) {
      throw new GraphQLError(`${name}: no incident ${args.id}`, {
        extensions: { code: ApiErrorCode.NotFound, field: 'id' },
      });
    }
    return incident;
  };
}

/** Roles that may change policies. */
const POLICY_ADMINS: readonly Role[] = ['admin'];

/**
 * Runs an operation on one of the API's topics with the query timeout; no topic (the API has no
 * bus), or a bus that fails, is `code` (POLICIES_UNAVAILABLE, TUNING_UNAVAILABLE).
 */
async function onBus<Topic, T>(
  context: ApiContext,
  what: 'policies' | 'rules',
  topic: Topic | undefined,
  run: (topic: Topic) => Promise<T>,
): Promise<T> {
  const code =
    what === 'policies' ? ApiErrorCode.PoliciesUnavailable : ApiErrorCode.TuningUnavailable;
  if (topic === undefined) {
    throw new GraphQLError(`${what}: this API has no bus (set MAMORI_BUS)`, {
      extensions: { code },
    });
  }
  try {
    return await withTimeout(run(topic), context.limits.queryTimeoutMs);
  } catch (err) {
    if (isMamoriError(err) && err.code.startsWith('MAMORI_BUS')) {
      throw new GraphQLError(`${what}: the bus is unavailable`, {
        originalError: err,
        extensions: { code, retriable: err.retriable },
      });
    }
    throw err;
  }
}

const onPolicies = <T>(context: ApiContext, run: (topic: PolicyTopic) => Promise<T>) =>
  onBus(context, 'policies', context.policies, run);
const onTuning = <T>(context: ApiContext, run: (topic: TuningTopic) => Promise<T>) =>
  onBus(context, 'rules', context.tuning, run);

type TuningKind = 'settings' | 'exceptions';
const tuningReads = new WeakMap<ApiContext, Map<TuningKind, Promise<RuleTuning__Output[]>>>();

/**
 * The tenant's rule settings or exceptions, read once per request: `Rule.enabled` and
 * `Rule.exceptions` ask for them once per rule of a list, and each read waits for the topic's
 * end (a round trip to the bus). A write in the request forgets them (`forgetTuning`).
 */
function tenantTuning(context: ApiContext, kind: TuningKind): Promise<RuleTuning__Output[]> {
  let reads = tuningReads.get(context);
  if (reads === undefined) {
    reads = new Map<TuningKind, Promise<RuleTuning__Output[]>>();
    tuningReads.set(context, reads);
  }
  let read = reads.get(kind);
  if (read === undefined) {
    read = onTuning(context, (topic) => topic[kind](context.caller.tenantId));
    reads.set(kind, read);
  }
  return read;
}

/** After a tuning write: the request's later reads see it. */
function forgetTuning(context: ApiContext): void {
  tuningReads.delete(context);
}

// 4096: the audit trail's longest note.
const MAX_AUDIT_NOTE = 4096;

/** What an admin set, as the audit entry's note: JSON of the new version, cut to fit. */
function auditNote(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length <= MAX_AUDIT_NOTE ? text : `${text.slice(0, MAX_AUDIT_NOTE - 1)}…`;
}

/**
 * Records an admin's change in the audit trail, before the change is written: a change that
 * fails after it leaves an entry for a change tried, never a change without its entry (as for
 * triage).
 */
async function audit(
  context: ApiContext,
  targetType: AuditTargetType,
  targetId: string,
  action: AuditAction,
  note: string,
): Promise<void> {
  await query(context, () =>
    context.warehouse.recordAudit(context.caller.tenantId, {
      targetType,
      targetId,
      action,
      actor: context.caller.actor,
      note,
    }),
  );
}

/** A rule as the API shows it, before the tenant's tuning is joined in (`Rule` resolvers). */
interface RuleView {
  id: string;
  name: string;
  source: string;
  priority: string;
  severity: string;
  tags: readonly string[];
  kinds: readonly string[];
  file: string | null;
  line: number | null;
  stateful: boolean;
  detectors: string[];
}

const SEVERITY_OF_PROTO: Readonly<Record<string, AlertSeverity>> = {
  SEVERITY_INFO: 'info',
  SEVERITY_LOW: 'low',
  SEVERITY_MEDIUM: 'medium',
  SEVERITY_HIGH: 'high',
  SEVERITY_CRITICAL: 'critical',
};

function viewOfCatalogRule(rule: CatalogRule, detectors: string[]): RuleView {
  return {
    id: rule.id,
    name: rule.name,
    source: rule.source,
    priority: rule.priority,
    severity: SEVERITY_OF_PROTO[rule.severity] ?? 'info',
    tags: rule.tags,
    kinds: rule.kinds,
    file: rule.file === '' ? null : rule.file,
    line: rule.line === 0 ? null : rule.line,
    stateful: rule.stateful,
    detectors,
  };
}

function viewOfPolicyRule(rule: CompiledRule): RuleView {
  return {
    id: rule.id,
    name: rule.name,
    source: rule.source,
    priority: rule.priority,
    severity: rule.severity,
    tags: rule.tags,
    kinds: rule.kinds,
    file: rule.file ?? null,
    line: null,
    stateful: false,
    detectors: [],
  };
}

/**
 * Every rule the tenant's events are evaluated against: the detectors' catalogs (a rule run by
 * several groups once, naming them all) and the tenant's own policy rules, by id.
 */
async function tenantRules(context: ApiContext): Promise<RuleView[]> {
  const catalogs = await onTuning(context, (topic) => topic.catalogs());
  const byId = new Map<string, RuleView>();
  for (const catalog of catalogs) {
    for (const rule of catalog.rules) {
      const known = byId.get(rule.id);
      if (known === undefined) byId.set(rule.id, viewOfCatalogRule(rule, [catalog.group_id]));
      else known.detectors.push(catalog.group_id);
    }
  }
  if (context.policies !== undefined) {
    const policies = await onPolicies(context, (topic) => topic.list(context.caller.tenantId));
    for (const rule of compilePolicies(policies).rules) byId.set(rule.id, viewOfPolicyRule(rule));
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One rule of `tenantRules`, or NOT_FOUND naming it. */
async function ruleOrNotFound(context: ApiContext, id: string, field: string): Promise<RuleView> {
  const found = (await tenantRules(context)).find((rule) => rule.id === id);
  if (found === undefined) {
    throw new GraphQLError(`no detector runs a rule ${id}, and no policy of the tenant has it`, {
      extensions: { code: ApiErrorCode.NotFound, field },
    });
  }
  return found;
}

export const resolvers = {
  DateTime,
  JSON: JSONScalar,
  Role: { ADMIN: 'admin', ANALYST: 'analyst', VIEWER: 'viewer' },
  EventKind: {
    PROCESS_EXEC: 'process_exec',
    PROCESS_EXIT: 'process_exit',
    FILE_OPEN: 'file_open',
    FILE_WRITE: 'file_write',
    FILE_RENAME: 'file_rename',
    FILE_DELETE: 'file_delete',
    NETWORK_CONNECT: 'network_connect',
    NETWORK_ACCEPT: 'network_accept',
    NETWORK_LISTEN: 'network_listen',
    DNS_QUERY: 'dns_query',
    HTTP_REQUEST: 'http_request',
    HTTP_RESPONSE: 'http_response',
    SCANNER_FINDING: 'scanner_finding',
    FILE_LINK: 'file_link',
    FILE_SYMLINK: 'file_symlink',
    KERNEL_MODULE_LOAD: 'kernel_module_load',
    PROCESS_PTRACE: 'process_ptrace',
    NETWORK_SOCKET: 'network_socket',
    FD_DUP: 'fd_dup',
    ENFORCEMENT: 'enforcement',
  } satisfies Record<string, EventKind>,
  Severity: { INFO: 'info', LOW: 'low', MEDIUM: 'medium', HIGH: 'high', CRITICAL: 'critical' },
  AlertStatus: {
    OPEN: 'open',
    ACKNOWLEDGED: 'acknowledged',
    RESOLVED: 'resolved',
    SUPPRESSED: 'suppressed',
  } satisfies Record<string, AlertStatus>,
  IncidentStatus: {
    OPEN: 'open',
    ACKNOWLEDGED: 'acknowledged',
    RESOLVED: 'resolved',
    SUPPRESSED: 'suppressed',
  } satisfies Record<string, IncidentStatus>,
  WorkloadKind: { POD: 'pod', CONTAINER: 'container', WEB: 'web', HOST: 'host' },
  AuditTargetType: {
    ALERT: 'alert',
    INCIDENT: 'incident',
    POLICY: 'policy',
    RULE_EXCEPTION: 'rule_exception',
    RULE: 'rule',
  } satisfies Record<string, AuditTargetType>,
  PolicyMode: {
    DETECT: 'POLICY_MODE_DETECT',
    PREVENT: 'POLICY_MODE_PREVENT',
    BLOCK: 'POLICY_MODE_BLOCK',
  } satisfies Record<string, Policy__Output['mode']>,
  L4Protocol: {
    ANY: 'L4_PROTOCOL_UNSPECIFIED',
    TCP: 'L4_PROTOCOL_TCP',
    UDP: 'L4_PROTOCOL_UDP',
  } satisfies Record<string, Policy__Output['allowed_destinations'][number]['protocol']>,
  AuditAction: {
    REOPEN: 'reopen',
    ACKNOWLEDGE: 'acknowledge',
    RESOLVE: 'resolve',
    SUPPRESS: 'suppress',
    CREATE: 'create',
    UPDATE: 'update',
    DELETE: 'delete',
    ENABLE: 'enable',
    DISABLE: 'disable',
  } satisfies Record<string, AuditAction>,
  Query: {
    viewer: (_: unknown, __: unknown, context: ApiContext) => ({
      tenant: context.caller.tenantId,
      role: context.caller.role,
      actor: context.caller.actor,
    }),
    events: (
      _: unknown,
      args: ConnectionArgs & { filter?: EventFilterArgs | null },
      context: ApiContext,
    ) =>
      connection(context, args, (page) =>
        context.warehouse.listEvents(
          context.caller.tenantId,
          defined(args.filter) as EventFilter,
          page,
        ),
      ),
    discoveredApi: async (
      _: unknown,
      args: { host?: string | null; from?: number | null; limit: number },
      context: ApiContext,
    ) => {
      if (!Number.isInteger(args.limit) || args.limit < 1 || args.limit > MAX_DISCOVERY_REQUESTS) {
        throw badInput(`limit must be 1 to ${MAX_DISCOVERY_REQUESTS}`, 'limit');
      }
      return query(context, () =>
        discoverApi(context.warehouse, context.caller.tenantId, {
          limit: args.limit,
          ...(args.host ? { host: args.host } : {}),
          ...(args.from !== undefined && args.from !== null ? { fromMicros: args.from } : {}),
        }),
      );
    },
    eventCounts: async (
      _: unknown,
      args: { from: number; to: number; bucketSeconds: number; filter?: EventFilterArgs | null },
      context: ApiContext,
    ) => {
      const filter = { ...defined(args.filter), fromMicros: args.from, toMicros: args.to };
      const counts = await query(context, () =>
        context.warehouse.countEvents(
          context.caller.tenantId,
          filter as EventFilter & { fromMicros: number; toMicros: number },
          args.bucketSeconds,
        ),
      );
      return counts.map((bucket) => ({ start: bucket.startMicros, count: bucket.count }));
    },
    alerts: async (
      _: unknown,
      args: ConnectionArgs & { filter?: AlertFilterArgs | null },
      context: ApiContext,
    ): Promise<AlertConnectionSource> => {
      const filter = defined(args.filter) as AlertFilter;
      const page = await connection(context, args, (request) =>
        context.warehouse.listAlerts(context.caller.tenantId, filter, request),
      );
      return { ...page, filter };
    },
    agents: (_: unknown, args: ConnectionArgs, context: ApiContext) =>
      connection(context, args, (page) =>
        context.warehouse.listAgents(context.caller.tenantId, page),
      ),
    workloads: (
      _: unknown,
      args: ConnectionArgs & { filter?: WorkloadFilterArgs | null },
      context: ApiContext,
    ) =>
      connection(context, args, (page) =>
        context.warehouse.listWorkloads(
          context.caller.tenantId,
          defined(args.filter) as WorkloadListFilter,
          page,
        ),
      ),
    incidents: async (
      _: unknown,
      args: ConnectionArgs & { filter?: IncidentFilterArgs | null },
      context: ApiContext,
    ): Promise<IncidentConnectionSource> => {
      const filter = defined(args.filter) as IncidentFilter;
      const page = await connection(context, args, (request) =>
        context.warehouse.listIncidents(context.caller.tenantId, filter, request),
      );
      return { ...page, filter };
    },
    incident: async (_: unknown, args: { id: string }, context: ApiContext) =>
      (await incidentOf(context, args.id)) ?? null,
    auditTrail: (
      _: unknown,
      args: ConnectionArgs & { targetType: AuditTargetType; targetId?: string | null },
      context: ApiContext,
    ) =>
      connection(context, args, (page) =>
        context.warehouse.listAudit(
          context.caller.tenantId,
          args.targetId == null
            ? { type: args.targetType }
            : { type: args.targetType, id: args.targetId },
          page,
        ),
      ),
    policies: (_: unknown, __: unknown, context: ApiContext) =>
      onPolicies(context, (topic) => topic.list(context.caller.tenantId)),
    rules: async (
      _: unknown,
      args: {
        filter?: { sources?: string[] | null; search?: string | null; enabled?: boolean | null };
      },
      context: ApiContext,
    ) => {
      const { sources, search, enabled } = args.filter ?? {};
      let rules = await tenantRules(context);
      if (sources != null) rules = rules.filter((rule) => sources.includes(rule.source));
      if (search != null && search !== '') {
        const needle = search.toLowerCase();
        rules = rules.filter(
          (rule) =>
            rule.id.toLowerCase().includes(needle) ||
            rule.name.toLowerCase().includes(needle) ||
            rule.tags.some((tag) => tag.toLowerCase().includes(needle)),
        );
      }
      if (enabled != null) {
        const settings = await tenantTuning(context, 'settings');
        const disabled = new Set(
          settings.filter((r) => r.setting?.enabled === false).map((r) => r.setting!.rule),
        );
        rules = rules.filter((rule) => disabled.has(rule.id) !== enabled);
      }
      return rules;
    },
    rule: async (_: unknown, args: { id: string }, context: ApiContext) =>
      (await tenantRules(context)).find((rule) => rule.id === args.id) ?? null,
    skippedRules: async (_: unknown, __: unknown, context: ApiContext) => {
      const catalogs = await onTuning(context, (topic) => topic.catalogs());
      return catalogs.flatMap((catalog) =>
        catalog.skipped.map((skipped) => ({
          detector: catalog.group_id,
          rule: skipped.rule,
          reason: skipped.reason,
          field: skipped.field === '' ? null : skipped.field,
          file: skipped.file === '' ? null : skipped.file,
          line: skipped.line === 0 ? null : skipped.line,
        })),
      );
    },
    ruleExceptions: async (_: unknown, args: { rule?: string | null }, context: ApiContext) => {
      const records = await tenantTuning(context, 'exceptions');
      return args.rule == null
        ? records
        : records.filter((record) => record.exception?.rule === args.rule);
    },
  },
  Mutation: {
    upsertPolicy: async (_: unknown, args: { input: PolicyInput }, context: ApiContext) => {
      requireRole(context, POLICY_ADMINS, 'upsertPolicy');
      const { policy, problems } = policyOfInput(
        context.caller.tenantId,
        args.input,
        Date.now() * 1000,
      );
      const first = problems[0];
      if (first !== undefined) throw badInput(first.message, first.field);
      const compiled = policyProblems(policy);
      if (compiled.length > 0) {
        throw new GraphQLError(
          `upsertPolicy: the policy does not compile (${compiled.length} problem(s))`,
          {
            extensions: {
              code: ApiErrorCode.BadUserInput,
              field: 'input',
              problems: compiled.map(({ line, message }) => ({ line, message })),
            },
          },
        );
      }
      const current = await onPolicies(context, (topic) => topic.list(context.caller.tenantId));
      const existed = current.some((p) => p.id === policy.id);
      // The tenant's whole set goes to each agent in one message: it must stay within it.
      const setBytes = policySetBytes([...current.filter((p) => p.id !== policy.id), policy]);
      if (setBytes > context.limits.maxPolicySetBytes) {
        throw badInput(
          `upsertPolicy: the tenant's policies would take ${setBytes} bytes, more than the ${context.limits.maxPolicySetBytes} sent to agents at once`,
          'input',
        );
      }
      await audit(context, 'policy', policy.id, existed ? 'update' : 'create', auditNote(policy));
      await onPolicies(context, (topic) => topic.write(policy));
      return policy;
    },
    deletePolicy: async (_: unknown, args: { id: string }, context: ApiContext) => {
      requireRole(context, POLICY_ADMINS, 'deletePolicy');
      const tenant = context.caller.tenantId;
      const deleted = await onPolicies(context, async (topic) => {
        if ((await topic.get(tenant, args.id)) === undefined) return false;
        await audit(context, 'policy', args.id, 'delete', '');
        await topic.write({
          tenant_id: tenant,
          id: args.id,
          deleted: true,
          updated_unix_micros: Date.now() * 1000,
        });
        return true;
      });
      return { id: args.id, deleted };
    },
    upsertRuleException: async (
      _: unknown,
      args: { input: RuleExceptionInput },
      context: ApiContext,
    ) => {
      requireRole(context, POLICY_ADMINS, 'upsertRuleException');
      const tenant = context.caller.tenantId;
      const { exception, compiled, problems } = exceptionOfInput(args.input);
      const first = problems[0];
      if (first !== undefined || compiled === undefined) {
        throw badInput(
          `upsertRuleException: ${first?.message ?? 'invalid'}`,
          first?.field ?? 'input',
        );
      }
      // A typo in the rule id would silence nothing: the rule must be one the tenant's events
      // meet, and the exception must be able to hold on the events it fires on.
      const rule = (await tenantRules(context)).find((r) => r.id === exception.rule);
      if (rule === undefined) {
        throw badInput(
          `upsertRuleException: no detector runs a rule ${exception.rule}, and no policy of the tenant has it`,
          'rule',
        );
      }
      const mismatch = kindMismatch(compiled, rule);
      if (mismatch !== undefined) throw badInput(`upsertRuleException: ${mismatch}`, 'fields');
      const existed = (await onTuning(context, (topic) => topic.exceptions(tenant))).some(
        (r) => r.exception?.id === exception.id,
      );
      const record: RuleTuning__Output = {
        tenant_id: tenant,
        exception,
        updated_by: context.caller.actor,
        updated_unix_micros: Date.now() * 1000,
        deleted: false,
        tuning: 'exception',
      };
      const { id: _id, ...rest } = exception;
      await audit(
        context,
        'rule_exception',
        exception.id,
        existed ? 'update' : 'create',
        auditNote(rest),
      );
      await onTuning(context, (topic) => topic.write(record));
      forgetTuning(context);
      return record;
    },
    deleteRuleException: async (_: unknown, args: { id: string }, context: ApiContext) => {
      requireRole(context, POLICY_ADMINS, 'deleteRuleException');
      const tenant = context.caller.tenantId;
      const deleted = await onTuning(context, async (topic) => {
        const found = (await topic.exceptions(tenant)).find((r) => r.exception?.id === args.id);
        if (found === undefined) return false;
        await audit(
          context,
          'rule_exception',
          args.id,
          'delete',
          auditNote({ rule: found.exception?.rule }),
        );
        await topic.write({
          tenant_id: tenant,
          exception: { id: args.id },
          updated_by: context.caller.actor,
          updated_unix_micros: Date.now() * 1000,
          deleted: true,
        });
        return true;
      });
      forgetTuning(context);
      return { id: args.id, deleted };
    },
    setRuleEnabled: async (
      _: unknown,
      args: { rule: string; enabled: boolean; note?: string | null },
      context: ApiContext,
    ) => {
      requireRole(context, POLICY_ADMINS, 'setRuleEnabled');
      const note = args.note ?? '';
      if (note.length > MAX_AUDIT_NOTE) {
        throw badInput(`setRuleEnabled: note: at most ${MAX_AUDIT_NOTE} characters`, 'note');
      }
      const rule = await ruleOrNotFound(context, args.rule, 'rule');
      await audit(context, 'rule', rule.id, args.enabled ? 'enable' : 'disable', note);
      // Enabled is every rule's default: enabling writes the setting's tombstone, so that the
      // topic holds only what differs from the default.
      await onTuning(context, (topic) =>
        topic.write({
          tenant_id: context.caller.tenantId,
          setting: { rule: rule.id, enabled: args.enabled },
          updated_by: context.caller.actor,
          updated_unix_micros: Date.now() * 1000,
          deleted: args.enabled,
        }),
      );
      forgetTuning(context);
      return rule;
    },
    setAlertStatus: async (
      _: unknown,
      args: { ids: string[]; status: AlertStatus; note?: string | null },
      context: ApiContext,
    ) => {
      requireRole(context, TRIAGERS, 'setAlertStatus');
      // 1000 ids: one request stays one reasonable ClickHouse insert.
      if (args.ids.length > 1000) throw badInput('ids: at most 1000 at a time', 'ids');
      await query(context, () =>
        context.warehouse.setAlertStatus(context.caller.tenantId, args.ids, args.status, {
          actor: context.caller.actor,
          ...(args.note == null ? {} : { note: args.note }),
        }),
      );
      return { ids: args.ids, status: args.status };
    },
    acknowledgeIncident: triageIncident('acknowledged', 'acknowledgeIncident'),
    resolveIncident: triageIncident('resolved', 'resolveIncident'),
    suppressIncident: triageIncident('suppressed', 'suppressIncident'),
    reopenIncident: triageIncident('open', 'reopenIncident'),
  },
  AlertConnection: {
    countsBySeverity: async (source: AlertConnectionSource, _: unknown, context: ApiContext) =>
      withTotal(
        await query(context, () =>
          context.warehouse.countAlertsBySeverity(context.caller.tenantId, source.filter),
        ),
      ),
  },
  IncidentConnection: {
    countsBySeverity: async (source: IncidentConnectionSource, _: unknown, context: ApiContext) =>
      withTotal(
        await query(context, () =>
          context.warehouse.countIncidentsBySeverity(context.caller.tenantId, source.filter),
        ),
      ),
  },
  Incident: {
    firstSeenAt: (incident: StoredIncident) => incident.firstSeenUnixMicros,
    lastSeenAt: (incident: StoredIncident) => incident.lastSeenUnixMicros,
    windowStart: (incident: StoredIncident) => incident.windowStartUnixMicros,
    windowEnd: (incident: StoredIncident) =>
      incident.windowStartUnixMicros + INCIDENT_WINDOW_SECONDS * 1_000_000,
    statusChange: (incident: StoredIncident) =>
      incident.statusChange === undefined
        ? null
        : {
            at: incident.statusChange.atMicros,
            by: incident.statusChange.actor,
            note: incident.statusChange.note,
          },
    alerts: (incident: StoredIncident, args: ConnectionArgs, context: ApiContext) =>
      connection(context, args, async (page) => {
        const found = await context.warehouse.getIncident(
          context.caller.tenantId,
          incident.id,
          page,
        );
        return found?.alerts ?? { items: [] };
      }),
  },
  Policy: {
    mode: (policy: Policy__Output) =>
      policy.mode === 'POLICY_MODE_UNSPECIFIED' ? 'POLICY_MODE_DETECT' : policy.mode,
    podLabels: (policy: Policy__Output) =>
      Object.entries(policy.pod_labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, value]) => ({ key, value })),
    allowedProcesses: (policy: Policy__Output) => policy.allowed_processes,
    deniedProcesses: (policy: Policy__Output) => policy.denied_processes,
    protectedPaths: (policy: Policy__Output) => policy.protected_paths,
    allowedDestinations: (policy: Policy__Output) =>
      policy.allowed_destinations.map(({ cidr, port, protocol }) => ({
        cidr,
        port,
        protocol: String(protocol),
      })),
    webApplication: (policy: Policy__Output) => policy.web_application,
    updatedAt: (policy: Policy__Output) => policy.updated_unix_micros,
  },
  WebApplicationPolicy: {
    pathPrefixes: (w: WebApplicationPolicy__Output) => w.path_prefixes,
    alertThreshold: (w: WebApplicationPolicy__Output) => w.alert_threshold,
    blockThreshold: (w: WebApplicationPolicy__Output) => w.block_threshold,
    apiMode: (w: WebApplicationPolicy__Output) =>
      w.api_mode === 'POLICY_MODE_UNSPECIFIED' ? 'POLICY_MODE_DETECT' : w.api_mode,
    rateLimits: (w: WebApplicationPolicy__Output) => w.rate_limits,
    botMode: (w: WebApplicationPolicy__Output) =>
      w.bot_mode === 'POLICY_MODE_UNSPECIFIED' ? 'POLICY_MODE_DETECT' : w.bot_mode,
    bodyLimitBytes: (w: WebApplicationPolicy__Output) => w.body_limit_bytes,
    sampleClean: (w: WebApplicationPolicy__Output) => w.sample_clean,
  },
  WaasException: {
    locationPrefix: (e: WaasException__Output) => e.location_prefix,
    pathPrefix: (e: WaasException__Output) => e.path_prefix,
  },
  WaasRateLimits: {
    burstRequests: (r: WaasRateLimits__Output) => r.burst_requests,
    burstSeconds: (r: WaasRateLimits__Output) => r.burst_seconds,
    averageRequests: (r: WaasRateLimits__Output) => r.average_requests,
    averageSeconds: (r: WaasRateLimits__Output) => r.average_seconds,
    banSeconds: (r: WaasRateLimits__Output) => r.ban_seconds,
    sessionCookies: (r: WaasRateLimits__Output) => r.session_cookies,
    sessionHeaders: (r: WaasRateLimits__Output) => r.session_headers,
  },
  AuditEntry: {
    at: (entry: AuditEntry) => entry.atMicros,
  },
  Rule: {
    enabled: async (rule: RuleView, _: unknown, context: ApiContext) => {
      const settings = await tenantTuning(context, 'settings');
      return !settings.some((r) => r.setting?.rule === rule.id && !r.setting.enabled);
    },
    exceptions: async (rule: RuleView, _: unknown, context: ApiContext) =>
      (await tenantTuning(context, 'exceptions')).filter((r) => r.exception?.rule === rule.id),
  },
  RuleException: {
    id: (r: RuleTuning__Output) => r.exception?.id ?? '',
    rule: (r: RuleTuning__Output) => r.exception?.rule ?? '',
    name: (r: RuleTuning__Output) => r.exception?.name ?? '',
    fields: (r: RuleTuning__Output) => r.exception?.fields ?? [],
    comps: (r: RuleTuning__Output) => r.exception?.comps ?? [],
    values: (r: RuleTuning__Output) => (r.exception?.values ?? []).map((tuple) => tuple.values),
    comment: (r: RuleTuning__Output) => r.exception?.comment ?? '',
    updatedBy: (r: RuleTuning__Output) => r.updated_by,
    updatedAt: (r: RuleTuning__Output) => r.updated_unix_micros,
  },
  Event: {
    kind: (event: StoredEvent) => (event.kind === '' ? null : event.kind),
    observedAt: (event: StoredEvent) => event.observedUnixMicros,
    receivedAt: (event: StoredEvent) => event.receivedUnixMicros,
  },
  Alert: {
    observedAt: (alert: { observedUnixMicros: number }) => alert.observedUnixMicros,
    updatedAt: (alert: { updatedUnixMicros: number }) => alert.updatedUnixMicros,
  },
  Agent: {
    id: (agent: StoredAgent) => agent.agentId,
    version: (agent: StoredAgent) => agent.agentVersion,
    lastSeenAt: (agent: StoredAgent) => agent.lastSeenUnixMicros,
    // Its stream had not ended at its latest status, and that status is recent: an ingest that
    // crashed never said the stream ended, but its heartbeats stopped.
    connected: (agent: StoredAgent, _: unknown, context: ApiContext) =>
      agent.connected &&
      Date.now() * 1000 - agent.lastSeenUnixMicros <= context.connectedWithinSeconds * 1_000_000,
  },
  Workload: {
    firstSeenAt: (w: { firstSeenUnixMicros: number }) => w.firstSeenUnixMicros,
    lastSeenAt: (w: { lastSeenUnixMicros: number }) => w.lastSeenUnixMicros,
  },
  Container: {
    firstSeenAt: (c: { firstSeenUnixMicros: number }) => c.firstSeenUnixMicros,
    lastSeenAt: (c: { lastSeenUnixMicros: number }) => c.lastSeenUnixMicros,
  },
};
