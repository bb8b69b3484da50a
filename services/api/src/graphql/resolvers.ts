import { isMamoriError } from '@mamori/common';
import {
  ALERT_SEVERITIES,
  INCIDENT_WINDOW_SECONDS,
  type AlertFilter,
  type AlertSeverity,
  type AlertStatus,
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
  type TriageAction,
  type Warehouse,
  type WorkloadListFilter,
} from '@mamori/warehouse';
import type { Policy__Output } from '@mamori/proto';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import type { Caller, Role } from '../auth/tokens.js';
import type { ApiLimits } from '../config.js';
import { policyOfInput, policyProblems, type PolicyInput } from '../policies/policy-input.js';
import type { PolicyTopic } from '../policies/policy-topic.js';

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
 * Runs an operation on the policies topic with the query timeout; no topic, or a bus that
 * fails, is POLICIES_UNAVAILABLE.
 */
async function onPolicies<T>(
  context: ApiContext,
  run: (topic: PolicyTopic) => Promise<T>,
): Promise<T> {
  const topic = context.policies;
  if (topic === undefined) {
    throw new GraphQLError('policies: this API has no bus (set MAMORI_BUS)', {
      extensions: { code: ApiErrorCode.PoliciesUnavailable },
    });
  }
  try {
    return await withTimeout(run(topic), context.limits.queryTimeoutMs);
  } catch (err) {
    if (isMamoriError(err) && err.code.startsWith('MAMORI_BUS')) {
      throw new GraphQLError('policies: the bus is unavailable', {
        originalError: err,
        extensions: { code: ApiErrorCode.PoliciesUnavailable, retriable: err.retriable },
      });
    }
    throw err;
  }
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
  WorkloadKind: { POD: 'pod', CONTAINER: 'container', HOST: 'host' },
  AuditTargetType: { ALERT: 'alert', INCIDENT: 'incident' } satisfies Record<
    string,
    AuditTargetType
  >,
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
  TriageAction: {
    REOPEN: 'reopen',
    ACKNOWLEDGE: 'acknowledge',
    RESOLVE: 'resolve',
    SUPPRESS: 'suppress',
  } satisfies Record<string, TriageAction>,
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
      args: ConnectionArgs & { targetType: AuditTargetType; targetId: string },
      context: ApiContext,
    ) =>
      connection(context, args, (page) =>
        context.warehouse.listAudit(
          context.caller.tenantId,
          { type: args.targetType, id: args.targetId },
          page,
        ),
      ),
    policies: (_: unknown, __: unknown, context: ApiContext) =>
      onPolicies(context, (topic) => topic.list(context.caller.tenantId)),
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
      await onPolicies(context, (topic) => topic.write(policy));
      return policy;
    },
    deletePolicy: async (_: unknown, args: { id: string }, context: ApiContext) => {
      requireRole(context, POLICY_ADMINS, 'deletePolicy');
      const tenant = context.caller.tenantId;
      const deleted = await onPolicies(context, async (topic) => {
        if ((await topic.get(tenant, args.id)) === undefined) return false;
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
    updatedAt: (policy: Policy__Output) => policy.updated_unix_micros,
  },
  AuditEntry: {
    at: (entry: AuditEntry) => entry.atMicros,
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
