/**
 * Query latency over a large history: loads N events (and alerts) into chDB, starts
 * `mamori api` on that data and times the main GraphQL queries. Prints one JSON object on its
 * last line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSilentLogger } from '@mamori/common';
import {
  createWarehouse,
  createWarehouseClient,
  encodeEventRow,
  migrate,
  type AlertInput,
  type AlertSeverity,
} from '@mamori/warehouse';
import { buildTemplates } from '../ingest/events.js';
import { startMamoriProcess } from '../support/mamori-process.js';
import { summarize } from '../support/stats.js';
import { positive, runMain } from '../support/args.js';

const USAGE = `npm run bench:query -- [options]

Loads events (the bench:ingest mix, spread over the last 24 hours) and alerts into a fresh
chDB directory, starts \`mamori api\` on it, and runs each main GraphQL query --rounds times
as the largest tenant, printing latency percentiles in ms.

  --events N     events to load (default 10000000)
  --alerts N     alerts to load (default events / 20)
  --tenants T    tenants the events are spread over (default 2)
  --rounds R     times each query runs (default 50)
  --queries Q,…  run only these queries (names as in the report)
  --dir DIR      load into DIR (new or empty) and keep it afterwards; a DIR this benchmark
                 loaded before with the same --events, --alerts and --tenants is queried
                 again without loading (to compare builds on the same data)
`;

/** What a kept --dir holds, written once its load finished. */
const LOADED_FILE = 'bench-query-loaded.json';

const DAY_MICROS = 24 * 3_600_000_000;
const BATCH = 100_000;

function writeVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

function writeString(out: number[], field: number, text: string): void {
  const bytes = Buffer.from(text);
  out.push((field << 3) | 2);
  writeVarint(out, bytes.length);
  for (const byte of bytes) out.push(byte);
}

/**
 * A template's bytes followed by the fields that make it one event of its own (a protobuf
 * parser keeps the last value of a field): id, tenant, agent, observed and received times.
 */
function stampedEvent(
  template: Buffer,
  stamp: { id: string; tenant: string; agent: string; observedMicros: number },
): Buffer {
  const out: number[] = [];
  writeString(out, 1, stamp.id);
  writeString(out, 2, stamp.tenant);
  writeString(out, 3, stamp.agent);
  out.push(4 << 3);
  writeVarint(out, stamp.observedMicros);
  out.push(5 << 3);
  writeVarint(out, stamp.observedMicros + 1000);
  return Buffer.concat([template, Buffer.from(out)]);
}

const SEVERITIES: AlertSeverity[] = ['info', 'low', 'medium', 'medium', 'high', 'critical'];

/** A deterministic scramble of `i` (a 32-bit integer hash), so that runs load the same data. */
function scramble(i: number): number {
  let x = Math.imul(i ^ (i >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

async function load(dir: string, events: number, alerts: number, tenants: number): Promise<void> {
  const client = createWarehouseClient(
    { kind: 'embedded', path: join(dir, 'warehouse'), database: 'mamori', retentionDays: 30 },
    { logger: createSilentLogger() },
  );
  try {
    await migrate(client, { database: 'mamori', retentionDays: 30 });
    const warehouse = createWarehouse({
      client,
      database: 'mamori',
      stagingDir: join(dir, 'warehouse', 'mamori-staging'),
    });
    const templates = buildTemplates();
    const start = Date.now() * 1000 - DAY_MICROS;
    let next = 0;
    const loader = async (): Promise<void> => {
      while (next < events) {
        const from = next;
        const size = Math.min(BATCH, events - from);
        next += size;
        const rows: Buffer[] = [];
        for (let i = from; i < from + size; i++) {
          rows.push(
            encodeEventRow(
              stampedEvent(templates[i % templates.length]!, {
                id: `ev-${i}`,
                tenant: `tenant-${i % tenants}`,
                agent: `node-${i % 40}`,
                observedMicros: start + Math.floor((i / events) * DAY_MICROS),
              }),
            ),
          );
        }
        await warehouse.insertEventRows(rows);
      }
    };
    // Two inserts in flight, as the store has one inserting and one filling.
    await Promise.all([loader(), loader()]);
    for (let from = 0; from < alerts; from += BATCH) {
      const batch: AlertInput[] = [];
      for (let i = from; i < Math.min(alerts, from + BATCH); i++) {
        // Rule, pod and severity at random (40 rules × 200 pods): alerts hardly roll up into
        // incidents (~1.8 alerts an incident with the defaults), the expensive case for
        // listing them; and every tenant has alerts of every severity.
        const rule = scramble(2 * i) % 40;
        const pod = scramble(2 * i + 1) % 200;
        batch.push({
          id: `alert-${i}`,
          tenantId: `tenant-${i % tenants}`,
          observedUnixMicros: start + Math.floor((i / alerts) * DAY_MICROS),
          ruleId: `rule-${rule}`,
          ruleName: `Rule ${rule}`,
          severity: SEVERITIES[scramble(3 * i + 2) % SEVERITIES.length]!,
          title: `Suspicious activity ${rule}`,
          agentId: `node-${pod % 40}`,
          eventId: `ev-${i * 20}`,
          hostname: `node-${pod % 40}.cluster.local`,
          namespace: `ns-${pod % 12}`,
          podName: `app-${pod}-7d9f8b`,
          containerId: `c${String(pod).padStart(63, '0')}`,
          imageRepository: `registry.example.gov/city/app-${pod % 20}`,
          tags: ['mitre_execution', `T${1000 + (i % 100)}`],
          details: { 'proc.cmdline': `sh -c id ${i % 7}` },
        });
      }
      await warehouse.insertAlerts(batch);
    }
  } finally {
    await client.close();
  }
}

/** The main queries of the SOC views, each on the first page, with one filter where named. */
function queries(now: number): Record<string, string> {
  const from = new Date(now - 6 * 3_600_000).toISOString();
  const to = new Date(now).toISOString();
  const page = '{ edges { node { id observedAt } } pageInfo { hasNextPage endCursor } }';
  return {
    events: `{ events(first: 50) ${page} }`,
    eventsByNamespace: `{ events(first: 50, filter: { namespace: "ns-3" }) ${page} }`,
    eventsByKind: `{ events(first: 50, filter: { kinds: [DNS_QUERY] }) ${page} }`,
    eventsByText: `{ events(first: 50, filter: { text: "conf.d" }) ${page} }`,
    eventCounts: `{ eventCounts(from: "${from}", to: "${to}", bucketSeconds: 300) { start count } }`,
    alerts: `{ alerts(first: 50) { countsBySeverity { critical high } edges { node { id severity } } } }`,
    alertsBySeverity: `{ alerts(first: 50, filter: { severities: [CRITICAL] }) { edges { node { id } } } }`,
    incidents: `{ incidents(first: 50) { countsBySeverity { critical high total } edges { node { id severity alertCount lastSeenAt } } pageInfo { hasNextPage endCursor } } }`,
    incidentsBySeverity: `{ incidents(first: 50, filter: { severities: [CRITICAL] }) { edges { node { id alertCount lastSeenAt } } pageInfo { hasNextPage endCursor } } }`,
    workloads: `{ workloads(first: 50) { edges { node { namespace podName } } } }`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      alerts: { type: 'string' },
      tenants: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '50' },
      queries: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const events = positive('events', values.events);
  const alerts = values.alerts === undefined ? Math.floor(events / 20) : Number(values.alerts);
  const tenants = positive('tenants', values.tenants);
  const rounds = positive('rounds', values.rounds);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'mamori-bench-query-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  if (values.dir === undefined) cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const all = queries(Date.now());
  const only = values.queries?.split(',').filter((name) => name !== '');
  const unknown = only?.filter((name) => !(name in all));
  if (unknown !== undefined && unknown.length > 0) {
    throw new Error(
      `--queries: unknown ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`,
    );
  }
  const chosen =
    only === undefined ? all : Object.fromEntries(only.map((name) => [name, all[name]!]));
  const loaded = join(dir, LOADED_FILE);
  const wanted = JSON.stringify({ events, alerts, tenants });
  try {
    let loadSeconds: number | undefined;
    if (existsSync(loaded)) {
      const previous = readFileSync(loaded, 'utf8');
      if (previous !== wanted) throw new Error(`--dir: holds another load (${previous})`);
    } else {
      const loadStarted = performance.now();
      await load(dir, events, alerts, tenants);
      loadSeconds = (performance.now() - loadStarted) / 1000;
      if (values.dir !== undefined) writeFileSync(loaded, wanted);
    }

    const token = 'bench-query-token-0123456789';
    const api = await startMamoriProcess<number>({
      command: 'api',
      env: {
        MAMORI_DATA_DIR: dir,
        MAMORI_API_PORT: '0',
        MAMORI_API_TOKENS: JSON.stringify([{ token, tenant: 'tenant-0', role: 'viewer' }]),
      },
      ready: (entry) => (entry['msg'] === 'api listening' ? Number(entry['port']) : undefined),
    });
    cleanups.push(() => api.stop());
    const url = `http://127.0.0.1:${api.ready}/graphql`;
    const latencies: Record<string, number[]> = {};
    // One round of every query first: caches warm as they would in a running API.
    for (const query of Object.values(chosen)) await graphql(url, token, query);
    for (let round = 0; round < rounds; round++) {
      for (const [name, query] of Object.entries(chosen)) {
        const started = performance.now();
        await graphql(url, token, query);
        (latencies[name] ??= []).push(performance.now() - started);
      }
    }
    const report = {
      benchmark: 'query',
      events,
      alerts,
      tenants,
      rounds,
      ...(loadSeconds === undefined
        ? { loaded: 'before (--dir)' }
        : {
            loadSeconds: Math.round(loadSeconds),
            loadEventsPerSecond: Math.round(events / loadSeconds),
          }),
      latencyMs: Object.fromEntries(
        Object.entries(latencies).map(([name, samples]) => [name, summarize(samples)]),
      ),
      node: process.version,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

async function graphql(url: string, token: string, query: string): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: unknown };
  if (response.status !== 200 || body.errors) {
    throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

runMain('bench:query', main);
