import type { ClickHouseClient } from '@clickhouse/client';

/** What a migration's statements may depend on. */
export interface SchemaContext {
  /** Database of Mamori's tables; a validated plain identifier. */
  database: string;
  /** Days events (and workloads not seen since) are kept. */
  retentionDays: number;
}

/** One versioned step of the schema; its statements must be idempotent (IF NOT EXISTS …). */
export interface Migration {
  version: number;
  name: string;
  statements(ctx: SchemaContext): string[];
}

/**
 * TTL clauses that follow the retention setting. They are not fixed in a migration: a
 * changed `MAMORI_EVENTS_RETENTION_DAYS` is applied at the next start (see `syncRetention`).
 */
export const RETENTION_TTL = {
  // Fresh parts are LZ4 (cheap to write and merge while they are hot); a day on, TTL merges
  // recompress them with ZSTD for the rest of their retention (schema 5).
  events: (days: number) =>
    `toDateTime(observed_at) + toIntervalDay(1) RECOMPRESS CODEC(ZSTD(1)), toDateTime(observed_at) + toIntervalDay(${days})`,
  workloads: (days: number) => `toDateTime(last_seen_at) + toIntervalDay(${days})`,
} as const satisfies Record<string, (days: number) => string>;

/**
 * The schema, in order. Never edit a released migration: add one. Design notes (sort keys,
 * deduplication, TTL) are in the package README.
 */
/** How an alert's incident key is made: its workload's kind, and the key itself (SQL). */
interface IncidentKeySql {
  kind: string;
  workload: string;
}

/** The roll-up of schema 6: the pod, else the bare container, else the host. */
const INCIDENT_KEY_V6: IncidentKeySql = {
  kind: `multiIf(pod_name != '', 'pod', container_id != '', 'container', 'host')`,
  workload: `multiIf(kind = 'pod', concat(namespace, '/', pod_name),
              kind = 'container', concat('container:', container_id),
              concat('host:', hostname))`,
};

/**
 * The roll-up since schema 8: the pod, else the bare container, else the web application
 * policy of a WAAS alert, else the host. Each expression reads an `alerts` row alone, so the
 * warehouse finds an incident's alerts with the same `workload`.
 */
export const INCIDENT_KEY: IncidentKeySql = {
  kind: `multiIf(pod_name != '', 'pod', container_id != '', 'container',
              JSONExtractString(details, 'waas.policy') != '', 'web', 'host')`,
  workload: `multiIf(pod_name != '', concat(namespace, '/', pod_name),
              container_id != '', concat('container:', container_id),
              JSONExtractString(details, 'waas.policy') != '',
              concat('web:', JSONExtractString(details, 'waas.policy')),
              concat('host:', hostname))`,
};

/**
 * Alerts of one tenant, rule and workload within one hour (INCIDENT_WINDOW_SECONDS in
 * warehouse.ts, which must match), as rows of `incidents`. Every aggregate is idempotent — an
 * exact set of alert ids, min, max, the title of the earliest alert — so a replayed alert, or
 * the re-insert a status change makes, never counts twice. The id is a hash of the key (the
 * first 128 bits of SHA-256 over tenant, rule, workload and window start, NUL-separated), the
 * same on every ClickHouse version and computable outside it. The alert's own id and title are
 * renamed inside, as the outer query's `id` and `title` are the incident's.
 */
function incidentsSelect(db: string, key: IncidentKeySql): string {
  return `SELECT
          tenant_id, window_start, rule_id, workload,
          any(incident_id) AS id,
          any(kind) AS workload_kind,
          any(namespace) AS namespace,
          any(pod_name) AS pod_name,
          any(container_id) AS container_id,
          any(hostname) AS hostname,
          any(rule_name) AS rule_name,
          max(severity) AS severity,
          min(observed_at) AS first_seen_at,
          max(observed_at) AS last_seen_at,
          uniqExactState(alert_id) AS alert_ids,
          argMinState(alert_title, observed_at) AS title
        FROM (
          SELECT tenant_id, rule_id, rule_name, severity, observed_at, namespace, pod_name,
            container_id, hostname, id AS alert_id, title AS alert_title,
            toDateTime(toStartOfInterval(observed_at, INTERVAL 3600 SECOND), 'UTC') AS window_start,
            ${key.kind} AS kind,
            ${key.workload} AS workload,
            substring(lower(hex(SHA256(concat(tenant_id, '\\0', rule_id, '\\0', workload, '\\0',
              toString(toUnixTimestamp(window_start)))))), 1, 32) AS incident_id
          FROM ${db}.alerts
        )
        GROUP BY tenant_id, window_start, rule_id, workload`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, alerts, agents, workloads',
    statements: ({ database: db, retentionDays }) => [
      `CREATE TABLE IF NOT EXISTS ${db}.events
      (
          tenant_id LowCardinality(String),
          observed_at DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
          agent_id LowCardinality(String),
          id String,
          received_at DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
          kind LowCardinality(String),
          hostname LowCardinality(String),
          namespace LowCardinality(String),
          pod_name LowCardinality(String),
          container_id String,
          container_name LowCardinality(String),
          container_runtime LowCardinality(String),
          privileged Bool,
          image_repository LowCardinality(String),
          image_tag LowCardinality(String),
          image_digest LowCardinality(String),
          process_name LowCardinality(String),
          pid Int32,
          command_line String CODEC(ZSTD(1)),
          path String CODEC(ZSTD(1)),
          labels Map(LowCardinality(String), String),
          payload String CODEC(ZSTD(1)),
          INDEX idx_kind kind TYPE set(64) GRANULARITY 4,
          INDEX idx_hostname hostname TYPE bloom_filter(0.01) GRANULARITY 4,
          INDEX idx_namespace namespace TYPE bloom_filter(0.01) GRANULARITY 4,
          INDEX idx_pod pod_name TYPE bloom_filter(0.01) GRANULARITY 4,
          INDEX idx_image image_repository TYPE bloom_filter(0.01) GRANULARITY 4,
          INDEX idx_process process_name TYPE bloom_filter(0.01) GRANULARITY 4
      )
      ENGINE = ReplacingMergeTree
      PARTITION BY toDate(observed_at)
      ORDER BY (tenant_id, observed_at, agent_id, id)
      TTL ${RETENTION_TTL.events(retentionDays)}
      SETTINGS ttl_only_drop_parts = 1`,
      `CREATE TABLE IF NOT EXISTS ${db}.alerts
      (
          tenant_id LowCardinality(String),
          observed_at DateTime64(6, 'UTC'),
          id String,
          updated_at DateTime64(6, 'UTC'),
          rule_id LowCardinality(String),
          rule_name LowCardinality(String),
          severity Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5),
          status Enum8('open' = 1, 'acknowledged' = 2, 'resolved' = 3),
          title String,
          agent_id LowCardinality(String),
          event_id String,
          hostname LowCardinality(String),
          namespace LowCardinality(String),
          pod_name LowCardinality(String),
          container_id String,
          image_repository LowCardinality(String),
          tags Array(LowCardinality(String)),
          details String CODEC(ZSTD(1))
      )
      ENGINE = ReplacingMergeTree(updated_at)
      PARTITION BY toYYYYMM(observed_at)
      ORDER BY (tenant_id, observed_at, id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.agents
      (
          tenant_id LowCardinality(String),
          agent_id String,
          last_seen_at DateTime64(6, 'UTC'),
          hostname String,
          agent_version LowCardinality(String),
          capabilities Array(LowCardinality(String)),
          policy_version String
      )
      ENGINE = ReplacingMergeTree(last_seen_at)
      ORDER BY (tenant_id, agent_id)`,
      `CREATE TABLE IF NOT EXISTS ${db}.workloads
      (
          tenant_id LowCardinality(String),
          namespace LowCardinality(String),
          pod_name String,
          container_id String,
          -- Attributes of the container, the same in every row of one container_id.
          container_name SimpleAggregateFunction(any, LowCardinality(String)),
          container_runtime SimpleAggregateFunction(any, LowCardinality(String)),
          privileged SimpleAggregateFunction(max, Bool),
          image_repository SimpleAggregateFunction(any, LowCardinality(String)),
          image_tag SimpleAggregateFunction(any, LowCardinality(String)),
          image_digest SimpleAggregateFunction(any, LowCardinality(String)),
          hostname SimpleAggregateFunction(any, LowCardinality(String)),
          first_seen_at SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
          last_seen_at SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
      )
      ENGINE = AggregatingMergeTree
      ORDER BY (tenant_id, namespace, pod_name, container_id)
      TTL ${RETENTION_TTL.workloads(retentionDays)}`,
      // min/max are idempotent, so a re-inserted event cannot distort a workload.
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.workloads_from_events TO ${db}.workloads AS
      SELECT
          tenant_id, namespace, pod_name, container_id,
          any(container_name) AS container_name,
          any(container_runtime) AS container_runtime,
          max(privileged) AS privileged,
          any(image_repository) AS image_repository,
          any(image_tag) AS image_tag,
          any(image_digest) AS image_digest,
          any(hostname) AS hostname,
          min(observed_at) AS first_seen_at,
          max(observed_at) AS last_seen_at
      FROM ${db}.events
      WHERE container_id != ''
      GROUP BY tenant_id, namespace, pod_name, container_id`,
    ],
  },
  {
    version: 2,
    name: 'events keep their protobuf bytes',
    statements: ({ database: db }) => [
      // The whole event as ingest stamped it: reads rebuild any field from it, and the store
      // writes it without decoding (see event-row.ts). Rows of schema 1 keep their JSON
      // `payload`; new rows leave that column empty.
      `ALTER TABLE ${db}.events ADD COLUMN IF NOT EXISTS event String CODEC(ZSTD(1))`,
    ],
  },
  {
    version: 3,
    name: 'agents say whether their stream ended',
    statements: ({ database: db }) => [
      // Rows of schema 2 were only ever written for connected agents.
      `ALTER TABLE ${db}.agents ADD COLUMN IF NOT EXISTS connected Bool DEFAULT true`,
    ],
  },
  {
    version: 4,
    name: 'text search skips granules by trigram',
    statements: ({ database: db }) => [
      // Trigram bloom filters of the lower-cased command line and path: a search for a string
      // most events lack (hunting an indicator) reads only the granules that may hold it —
      // 8 ms instead of 125 ms over 2 M events of a tenant, measured. 4096 bytes and 3 hashes
      // per granule: ~0.35 µs per event to build. Parts written before this migration get the
      // index as merges rewrite them.
      `ALTER TABLE ${db}.events ADD INDEX IF NOT EXISTS idx_text_command_line
        lowerUTF8(command_line) TYPE ngrambf_v1(3, 4096, 3, 0) GRANULARITY 1`,
      `ALTER TABLE ${db}.events ADD INDEX IF NOT EXISTS idx_text_path
        lowerUTF8(path) TYPE ngrambf_v1(3, 4096, 3, 0) GRANULARITY 1`,
    ],
  },
  {
    version: 5,
    name: 'events are LZ4 while fresh, ZSTD after a day',
    statements: ({ database: db }) => [
      // The large columns take the table's codec: LZ4 for new parts, ZSTD once the TTL
      // recompresses them (RETENTION_TTL.events). Writing and merging LZ4 costs less CPU per
      // event than ZSTD(1) — with the store's rows made off the main thread, bench:e2e stored
      // 54.7k events/s instead of 46–49k — and a day's data is recompressed once, in the
      // background. Metadata only: existing parts keep their codec until merged.
      ...['command_line', 'path', 'payload', 'event'].map(
        (column) => `ALTER TABLE ${db}.events MODIFY COLUMN ${column} REMOVE CODEC`,
      ),
    ],
  },
  {
    version: 6,
    name: 'incidents roll alerts up; triage status and audit',
    statements: ({ database: db }) => [
      // Metadata only: an Enum8 takes a new value without rewriting a part.
      `ALTER TABLE ${db}.alerts MODIFY COLUMN status
        Enum8('open' = 1, 'acknowledged' = 2, 'resolved' = 3, 'suppressed' = 4)`,
      // Alerts of one tenant, rule and workload within one hour (INCIDENT_WINDOW_SECONDS in
      // warehouse.ts, which must match). The workload is the pod (namespace/pod) when there is
      // one, else the bare container, else the host. Every aggregate is idempotent — an exact
      // set of alert ids, min, max, the title of the earliest alert — so a replayed alert, or
      // the re-insert a status change makes, never counts twice. The id is a hash of the key
      // (the first 128 bits of SHA-256 over tenant, rule, workload and window start, NUL-
      // separated), the same on every ClickHouse version and computable outside it.
      `CREATE TABLE IF NOT EXISTS ${db}.incidents
      (
          tenant_id LowCardinality(String),
          window_start DateTime('UTC'),
          rule_id LowCardinality(String),
          workload String,
          id SimpleAggregateFunction(any, String),
          workload_kind SimpleAggregateFunction(any, LowCardinality(String)),
          namespace SimpleAggregateFunction(any, LowCardinality(String)),
          pod_name SimpleAggregateFunction(any, String),
          container_id SimpleAggregateFunction(any, String),
          hostname SimpleAggregateFunction(any, LowCardinality(String)),
          rule_name SimpleAggregateFunction(any, LowCardinality(String)),
          severity SimpleAggregateFunction(max,
            Enum8('info' = 1, 'low' = 2, 'medium' = 3, 'high' = 4, 'critical' = 5)),
          first_seen_at SimpleAggregateFunction(min, DateTime64(6, 'UTC')),
          last_seen_at SimpleAggregateFunction(max, DateTime64(6, 'UTC')),
          alert_ids AggregateFunction(uniqExact, String),
          title AggregateFunction(argMin, String, DateTime64(6, 'UTC')),
          INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 1
      )
      ENGINE = AggregatingMergeTree
      PARTITION BY toYYYYMM(window_start)
      ORDER BY (tenant_id, window_start, rule_id, workload)`,
      ...(() => {
        const select = incidentsSelect(db, INCIDENT_KEY_V6);
        return [
          `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.incidents_from_alerts TO ${db}.incidents AS ${select}`,
          // Alerts stored before this migration. Running it again (a start that died half-way)
          // or racing the view over a new alert changes nothing: the aggregates are idempotent.
          `INSERT INTO ${db}.incidents ${select}`,
        ];
      })(),
      // The latest status of an incident wins; it applies to the incident as a whole, so alerts
      // that join its window later share it (a suppressed incident stays suppressed).
      `CREATE TABLE IF NOT EXISTS ${db}.incident_status
      (
          tenant_id LowCardinality(String),
          incident_id String,
          updated_at DateTime64(6, 'UTC'),
          status Enum8('open' = 1, 'acknowledged' = 2, 'resolved' = 3, 'suppressed' = 4),
          actor String,
          note String
      )
      ENGINE = ReplacingMergeTree(updated_at)
      ORDER BY (tenant_id, incident_id)`,
      // Append-only: who did what to which alert or incident, when, and why.
      `CREATE TABLE IF NOT EXISTS ${db}.triage_audit
      (
          tenant_id LowCardinality(String),
          target_type Enum8('alert' = 1, 'incident' = 2),
          target_id String,
          at DateTime64(6, 'UTC'),
          entry_id UUID,
          action LowCardinality(String),
          actor String,
          note String
      )
      ENGINE = MergeTree
      PARTITION BY toYYYYMM(at)
      ORDER BY (tenant_id, target_type, target_id, at, entry_id)`,
    ],
  },
  {
    version: 7,
    name: 'the audit trail covers admin changes',
    statements: ({ database: db }) => [
      // Policies, rule exceptions and per-tenant rule settings join alerts and incidents as
      // audit targets (AUDIT_TARGET_TYPES in types.ts, which must match). Metadata only, even
      // in the sort key: existing values keep their numbers, so no part is rewritten.
      `ALTER TABLE ${db}.triage_audit MODIFY COLUMN target_type
        Enum8('alert' = 1, 'incident' = 2, 'policy' = 3, 'rule_exception' = 4, 'rule' = 5)`,
    ],
  },
  {
    version: 8,
    name: 'web application alerts roll up per application',
    statements: ({ database: db }) => [
      // The WAAS's alerts outside any pod or container rolled up per proxy host: every
      // application behind one proxy shared an incident per rule. They now roll up per web
      // application policy (`waas.policy` in the alert's details: one of the tenant's own
      // policies, chosen by the proxy's host patterns). The new view is made before the old one
      // goes, so no alert stored meanwhile misses its incident; incidents already rolled up
      // keep their keys.
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.incidents_from_alerts_v8 TO ${db}.incidents AS ${incidentsSelect(db, INCIDENT_KEY)}`,
      `DROP VIEW IF EXISTS ${db}.incidents_from_alerts`,
    ],
  },
];

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Outcome of `migrate`. */
export interface MigrationReport {
  /** Versions applied by this call, in order. */
  applied: number[];
  /** Highest version now in place. */
  version: number;
}

/**
 * Brings the database to the newest schema: creates it, runs each migration not yet recorded
 * in `schema_migrations`, records it, then aligns TTLs with the retention setting. Safe to run
 * at every start and from several processes at once (every statement is idempotent, and a
 * version recorded twice collapses in the ReplacingMergeTree).
 * @throws ClickHouseError from @clickhouse/client when a statement fails; what was applied
 * before it stays recorded.
 */
export async function migrate(
  client: ClickHouseClient,
  ctx: SchemaContext,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const db = ctx.database;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.${MIGRATIONS_TABLE}
      (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const result = await client.query({
    query: `SELECT DISTINCT version FROM ${db}.${MIGRATIONS_TABLE}`,
    format: 'JSONEachRow',
  });
  const done = new Set((await result.json<{ version: number }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue;
    for (const statement of migration.statements(ctx)) {
      await client.command({ query: statement });
    }
    await client.insert({
      table: `${db}.${MIGRATIONS_TABLE}`,
      values: [{ version: migration.version, name: migration.name }],
      format: 'JSONEachRow',
    });
    applied.push(migration.version);
    done.add(migration.version);
  }
  await syncRetention(client, ctx);
  return { applied, version: Math.max(0, ...done) };
}

/**
 * Changes the TTL of the tables that follow the retention setting when it differs from the
 * one in place. Only the table definition changes (`materialize_ttl_after_modify = 0`):
 * existing parts expire by the new rule as merges and TTL passes reach them, instead of one
 * mutation rewriting every part at start.
 */
async function syncRetention(client: ClickHouseClient, ctx: SchemaContext): Promise<void> {
  for (const [table, ttl] of Object.entries(RETENTION_TTL)) {
    const result = await client.query({
      query: `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}`,
      query_params: { db: ctx.database, table },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ engine_full: string }>();
    if (!row) continue;
    const wanted = ttl(ctx.retentionDays);
    if (row.engine_full.includes(`TTL ${wanted}`)) continue;
    await client.command({
      query: `ALTER TABLE ${ctx.database}.${table} MODIFY TTL ${wanted} SETTINGS materialize_ttl_after_modify = 0`,
    });
  }
}
