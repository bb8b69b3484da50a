/**
 * Query latency over a large history: loads N events (and alerts) into chDB, starts
 * `mamori api` on that data and times the main GraphQL queries. Prints one JSON object on its
 * last line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
  --dir DIR      load into DIR (new or empty) and keep it afterwards
`;

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
        batch.push({
          id: `alert-${i}`,
          tenantId: `tenant-${i % tenants}`,
          observedUnixMicros: start + Math.floor((i / alerts) * DAY_MICROS),
          ruleId: `rule-${i % 40}`,
          ruleName: `Rule ${i % 40}`,
          severity: SEVERITIES[i % SEVERITIES.length]!,
          title: `Suspicious activity ${i % 40}`,
          agentId: `node-${i % 40}`,
          eventId: `ev-${i * 20}`,
          hostname: `node-${i % 40}.cluster.local`,
          namespace: `ns-${i % 12}`,
          podName: `app-${i % 200}-7d9f8b`,
          containerId: `c${String(i % 200).padStart(63, '0')}`,
          imageRepository: `registry.example.gov/city/app-${i % 20}`,
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
  try {
    const loadStarted = performance.now();
    await load(dir, events, alerts, tenants);
    const loadSeconds = (performance.now() - loadStarted) / 1000;

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
    const all = queries(Date.now());
    // One round of every query first: caches warm as they would in a running API.
    for (const query of Object.values(all)) await graphql(url, token, query);
    for (let round = 0; round < rounds; round++) {
      for (const [name, query] of Object.entries(all)) {
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
      loadSeconds: Math.round(loadSeconds),
      loadEventsPerSecond: Math.round(events / loadSeconds),
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
