/**
 * The warehouse suite: run once on chDB in-process and once over HTTP (see
 * src/testing/clickhouse-http.ts), so that the same schema and queries are proven on both paths.
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { isMamoriError } from '@mamori/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '@mamori/proto';
import {
  createWarehouse,
  encodeEventRow,
  INCIDENT_WINDOW_SECONDS,
  migrate,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  type AlertInput,
  type StoredIncident,
  type Warehouse,
} from '../../src/index.js';
import { testDatabase, testTenant } from './chdb.js';
import { execEvent, fileEvent, httpEvent, SECOND, T0 } from '../../src/testing/index.js';

export interface SuiteTarget {
  /** A client of the target; the suite closes it. */
  connect(): Promise<ClickHouseClient>;
  /** Where chDB in this process stages inserts (see `CreateWarehouseOptions.stagingDir`). */
  stagingDir?: string;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function alert(tenant: string, overrides: Partial<AlertInput> & { id: string }): AlertInput {
  return {
    tenantId: tenant,
    observedUnixMicros: T0,
    ruleId: 'shell-in-container',
    ruleName: 'Terminal shell in container',
    severity: 'high',
    title: 'A shell was spawned in a container',
    agentId: 'node-1',
    eventId: 'ev-1',
    hostname: 'node-1.city-a',
    namespace: 'citizens',
    podName: 'portal-7d9f',
    containerId: 'c0ffee01',
    imageRepository: 'registry.example.gov/city/portal',
    tags: ['mitre_execution'],
    details: { 'proc.cmdline': 'sh -i' },
    ...overrides,
  };
}

const codec = createEventCodec();

export function warehouseSuite(target: SuiteTarget): void {
  let client: ClickHouseClient;
  let warehouse: Warehouse;
  const database = testDatabase();

  beforeAll(async () => {
    client = await target.connect();
    await migrate(client, { database, retentionDays: 30 });
    warehouse = createWarehouse({ client, database, stagingDir: target.stagingDir });
  });
  afterAll(async () => {
    await client?.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client?.close();
  });

  describe('migrations', () => {
    it('records each version once and applies nothing on a second run', async () => {
      const again = await migrate(client, { database, retentionDays: 30 });
      expect(again).toEqual({ applied: [], version: 8 });
      const rows = await (
        await client.query({
          query: `SELECT version, count() AS n FROM ${database}.${MIGRATIONS_TABLE} GROUP BY version ORDER BY version`,
          format: 'JSONEachRow',
        })
      ).json<{ version: number; n: number | string }>();
      expect(rows.map((r) => [Number(r.version), Number(r.n)])).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
        [4, 1],
        [5, 1],
        [6, 1],
        [7, 1],
        [8, 1],
      ]);
    });

    it('applies a changed retention to the TTL of events and workloads at the next start', async () => {
      const db = testDatabase('retention');
      try {
        expect((await migrate(client, { database: db, retentionDays: 30 })).applied).toEqual([
          1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        await migrate(client, { database: db, retentionDays: 7 });
        const rows = await (
          await client.query({
            query: `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN ('events', 'workloads') ORDER BY name`,
            query_params: { db },
            format: 'JSONEachRow',
          })
        ).json<{ name: string; engine_full: string }>();
        expect(rows).toHaveLength(2);
        for (const row of rows) {
          expect(row.engine_full).toContain('toIntervalDay(7)');
          expect(row.engine_full).not.toContain('toIntervalDay(30)');
        }
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });
  });

  describe('events', () => {
    it('drops events once they are older than the retention', async () => {
      const db = testDatabase('ttl');
      try {
        await migrate(client, { database: db, retentionDays: 2 });
        const short = createWarehouse({ client, database: db, stagingDir: target.stagingDir });
        const tenant = testTenant();
        const day = 24 * 3600 * SECOND;
        await short.insertEvents([
          execEvent({ tenant, id: 'fresh', at: T0 }),
          execEvent({ tenant, id: 'stale', at: T0 - 5 * day }),
        ]);
        // TTL is applied by merges; FINAL forces one rather than waiting for the background.
        await client.command({ query: `OPTIMIZE TABLE ${db}.events FINAL` });
        expect((await short.listEvents(tenant)).items.map((e) => e.id)).toEqual(['fresh']);
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });

    it('writes fresh events with LZ4 and events over a day old with ZSTD', async () => {
      const db = testDatabase('codec');
      try {
        await migrate(client, { database: db, retentionDays: 30 });
        const w = createWarehouse({ client, database: db, stagingDir: target.stagingDir });
        const tenant = testTenant();
        const day = 24 * 3600 * SECOND;
        const now = Date.now() * 1000;
        await w.insertEvents([execEvent({ tenant, id: 'old', at: now - 3 * day })]);
        await w.insertEvents([execEvent({ tenant, id: 'new', at: now - 60 * SECOND })]);
        const codecs = async () =>
          (
            await (
              await client.query({
                query: `SELECT partition, default_compression_codec AS codec FROM system.parts
                  WHERE database = {db:String} AND table = 'events' AND active ORDER BY partition`,
                query_params: { db },
                format: 'JSONEachRow',
              })
            ).json<{ partition: string; codec: string }>()
          ).map((row) => row.codec);
        // A part past the recompression TTL is written with ZSTD at once, or at its first
        // merge: one CI run here saw a one-row part of three days ago written with LZ4. A merge
        // (forced here; TTL merges do it in the background) recompresses it, and leaves the
        // fresh part as it is.
        await client.command({ query: `OPTIMIZE TABLE ${db}.events FINAL` });
        expect(await codecs()).toEqual(['ZSTD(1)', 'LZ4']);
        expect((await w.listEvents(tenant)).items.map((e) => e.id)).toEqual(['new', 'old']);
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });

    it('stores a decoded event and returns its typed fields and payload', async () => {
      const tenant = testTenant();
      await warehouse.insertEvents([
        execEvent({ tenant, id: 'e1', args: ['curl', '-sS', 'https://example.gov/x'] }),
        httpEvent({ tenant, id: 'e2', at: T0 + SECOND, body: Buffer.from('user=a&pw=b') }),
      ]);
      const { items, nextCursor } = await warehouse.listEvents(tenant);
      expect(nextCursor).toBeUndefined();
      expect(items.map((e) => e.id)).toEqual(['e2', 'e1']);
      const [http, exec] = items;
      expect(exec).toMatchObject({
        agentId: 'node-1',
        observedUnixMicros: T0,
        receivedUnixMicros: T0 + 1000,
        kind: 'process_exec',
        hostname: 'node-1.city-a',
        workload: {
          namespace: 'citizens',
          podName: 'portal-7d9f',
          containerId: 'c0ffee01',
          containerName: 'portal',
          imageRepository: 'registry.example.gov/city/portal',
          imageTag: '1.4.2',
          imageDigest: 'sha256:aaaa',
        },
        processName: 'curl',
        pid: 4242,
        commandLine: 'curl -sS https://example.gov/x',
        path: '/usr/bin/curl',
        labels: { sensor: 'ebpf' },
        payload: { process: { name: 'curl', args: ['curl', '-sS', 'https://example.gov/x'] } },
      });
      expect(http?.payload).toMatchObject({
        method: 'POST',
        body: Buffer.from('user=a&pw=b').toString('base64'),
      });
    });

    it('keeps tabs, newlines, backslashes and quotes of any column intact', async () => {
      const tenant = testTenant();
      const args = ['sh', '-c', "printf 'a\tb\n' | grep \\x", 'new\nline', 'tab\tbed'];
      const event = execEvent({ tenant, id: "id'with\\odd\tbytes", name: 'we\\ird', args });
      event.labels = { "it's": 'a\\b\tc\nd', plain: 'x' };
      await warehouse.insertEventRows([encodeEventRow(codec.encode(event))]);
      const [stored] = (await warehouse.listEvents(tenant)).items;
      expect(stored).toMatchObject({
        id: event.id,
        processName: 'we\\ird',
        commandLine: args.join(' '),
        labels: event.labels,
        payload: { process: { args } },
      });
    });

    it('reads events stored by schema 1 from their JSON payload', async () => {
      const tenant = testTenant();
      await client.command({
        query: `INSERT INTO ${database}.events (tenant_id, observed_at, agent_id, id, kind, payload)
          SELECT {tenant:String}, fromUnixTimestamp64Micro({at:Int64}, 'UTC'), 'node-1', 'old', 'dns_query', {payload:String}`,
        query_params: { tenant, at: T0, payload: JSON.stringify({ query: 'example.gov' }) },
      });
      const [stored] = (await warehouse.listEvents(tenant)).items;
      expect(stored).toMatchObject({
        id: 'old',
        kind: 'dns_query',
        payload: { query: 'example.gov' },
      });
    });

    it("never shows one tenant's events to another", async () => {
      const a = testTenant();
      const b = testTenant();
      await warehouse.insertEvents([execEvent({ tenant: a }), execEvent({ tenant: a })]);
      expect((await warehouse.listEvents(a)).items).toHaveLength(2);
      expect((await warehouse.listEvents(b)).items).toEqual([]);
      const range = { fromMicros: T0 - SECOND, toMicros: T0 + SECOND };
      expect(await warehouse.countEvents(b, range, 60)).toEqual([]);
      expect(isMamoriError(await rejection(warehouse.listEvents('')), 'MAMORI_VALIDATION')).toBe(
        true,
      );
    });

    it('pages newest first with a cursor, ties broken by agent and id, without gaps or repeats', async () => {
      const tenant = testTenant();
      const events = Array.from({ length: 25 }, (_, i) =>
        execEvent({
          tenant,
          id: `p${String(i).padStart(2, '0')}`,
          agent: i % 2 === 0 ? 'node-a' : 'node-b',
          // Groups of three share one observed time.
          at: T0 + Math.floor(i / 3) * SECOND,
        }),
      );
      await warehouse.insertEvents(events.slice(0, 12));
      await warehouse.insertEvents(events.slice(12));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await warehouse.listEvents(tenant, {}, { limit: 10, cursor });
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      const expected = [...events]
        .sort(
          (x, y) =>
            y.observed_unix_micros - x.observed_unix_micros ||
            y.agent_id.localeCompare(x.agent_id) ||
            y.id.localeCompare(x.id),
        )
        .map((e) => e.id);
      expect(seen).toEqual(expected);
    });

    it('rejects a cursor it did not make and a limit out of range', async () => {
      const tenant = testTenant();
      const bad = await rejection(warehouse.listEvents(tenant, {}, { cursor: 'bm90IGEgY3Vyc29y' }));
      expect(isMamoriError(bad, 'MAMORI_VALIDATION') && bad.context['field']).toBe('cursor');
      const big = await rejection(warehouse.listEvents(tenant, {}, { limit: 5000 }));
      expect(isMamoriError(big, 'MAMORI_VALIDATION') && big.context['field']).toBe('limit');
    });

    it('filters by time, host, namespace, pod, image, kind, process name and text', async () => {
      const tenant = testTenant();
      await warehouse.insertEvents([
        execEvent({ tenant, id: 'curl', at: T0, args: ['curl', 'HTTPS://Evil.example/x'] }),
        execEvent({
          tenant,
          id: 'nc',
          name: 'nc',
          at: T0 + SECOND,
          args: ['nc', '-e', '/bin/sh'],
          hostname: 'node-2.city-a',
          workload: {
            namespace: 'payments',
            pod_name: 'pay-1',
            image_repository: 'r/pay',
            image_tag: '2',
            image_digest: 'sha256:bbbb',
          },
        }),
        fileEvent({ tenant, id: 'shadow', at: T0 + 2 * SECOND, path: '/etc/Shadow' }),
        execEvent({ tenant, id: 'host', at: T0 + 3 * SECOND, workload: null }),
      ]);
      const ids = async (filter: Parameters<Warehouse['listEvents']>[1]) =>
        (await warehouse.listEvents(tenant, filter)).items.map((e) => e.id).sort();
      expect(await ids({ fromMicros: T0 + SECOND, toMicros: T0 + 3 * SECOND })).toEqual([
        'nc',
        'shadow',
      ]);
      expect(await ids({ hostname: 'node-2.city-a' })).toEqual(['nc']);
      expect(await ids({ namespace: 'payments' })).toEqual(['nc']);
      expect(await ids({ podName: 'portal-7d9f' })).toEqual(['curl', 'shadow']);
      expect(await ids({ image: 'r/pay' })).toEqual(['nc']);
      expect(await ids({ image: 'r/pay:2' })).toEqual(['nc']);
      expect(await ids({ image: 'sha256:aaaa' })).toEqual(['curl', 'shadow']);
      expect(await ids({ kinds: ['file_open'] })).toEqual(['shadow']);
      expect(await ids({ kinds: ['file_open', 'process_exec'] })).toHaveLength(4);
      expect(await ids({ processName: 'nc' })).toEqual(['nc']);
      expect(await ids({ text: 'evil.EXAMPLE' })).toEqual(['curl']);
      expect(await ids({ text: '/etc/shadow' })).toEqual(['shadow']);
      expect(await ids({ text: 'bin/sh', namespace: 'citizens' })).toEqual([]);
    });

    it('matches search text literally, LIKE wildcards and non-ASCII letters included', async () => {
      const tenant = testTenant();
      await warehouse.insertEvents([
        execEvent({ tenant, id: 'pct', args: ['printf', '100%_done'] }),
        execEvent({ tenant, id: 'plain', args: ['printf', '1000 done'] }),
        fileEvent({ tenant, id: 'kana', path: '/srv/ÉTAT/守り.txt' }),
      ]);
      const ids = async (text: string) =>
        (await warehouse.listEvents(tenant, { text })).items.map((e) => e.id).sort();
      expect(await ids('0%_d')).toEqual(['pct']);
      expect(await ids('%')).toEqual(['pct']);
      expect(await ids('_')).toEqual(['pct']);
      expect(await ids('état/守り')).toEqual(['kana']);
      expect(await ids('\\')).toEqual([]);
    });

    it('passes hostile values as parameters, never as SQL', async () => {
      const tenant = `${testTenant()}'); DROP TABLE x; --\\\n`;
      const text = "it's 100% \\ _ {x:String}";
      await warehouse.insertEvents([execEvent({ tenant, id: "q'1", args: ['echo', text] })]);
      const { items } = await warehouse.listEvents(tenant, { text, hostname: 'node-1.city-a' });
      expect(items.map((e) => [e.id, e.commandLine])).toEqual([["q'1", `echo ${text}`]]);
    });

    it('stores every row of a batch spread over more buffers than one vectored write takes', async () => {
      const tenant = testTenant();
      // Each row a buffer of its own: nothing to coalesce, 1,500 writes' worth of buffers.
      const rows = Array.from({ length: 1500 }, (_, i) =>
        Buffer.from(encodeEventRow(codec.encode(execEvent({ tenant, id: `v${i}`, at: T0 + i })))),
      );
      await warehouse.insertEventRows(rows);
      const range = { fromMicros: T0, toMicros: T0 + SECOND };
      expect(await warehouse.countEvents(tenant, range, 60)).toEqual([
        { startMicros: T0, count: 1500 },
      ]);
    });

    it('shows an event once however often its insert is retried', async () => {
      const tenant = testTenant();
      const batch = Array.from({ length: 20 }, (_, i) =>
        execEvent({ tenant, id: `d${i}`, at: T0 + i * SECOND }),
      );
      await warehouse.insertEvents(batch);
      await warehouse.insertEvents(batch); // the same batch retried
      await warehouse.insertEvents(batch.slice(5, 15)); // a retry with other batch boundaries
      const range = { fromMicros: T0, toMicros: T0 + 60 * SECOND };
      const check = async () => {
        const page = await warehouse.listEvents(tenant, {}, { limit: 100 });
        expect(page.items.map((e) => e.id)).toEqual(batch.map((e) => e.id).reverse());
        expect(await warehouse.countEvents(tenant, range, 60)).toEqual([
          { startMicros: T0, count: 20 },
        ]);
      };
      await check();
      await client.command({ query: `OPTIMIZE TABLE ${database}.events FINAL` });
      await check();
    });

    it('fills a page and its cursor even when copies of its events outnumber the events', async () => {
      const tenant = testTenant();
      const batch = Array.from({ length: 3 }, (_, i) =>
        execEvent({ tenant, id: `c${i}`, at: T0 + i * SECOND }),
      );
      for (let copy = 0; copy < 5; copy++) await warehouse.insertEvents(batch);
      const first = await warehouse.listEvents(tenant, {}, { limit: 2 });
      expect(first.items.map((e) => e.id)).toEqual(['c2', 'c1']);
      expect(first.nextCursor).toBeDefined();
      const rest = await warehouse.listEvents(tenant, {}, { limit: 2, cursor: first.nextCursor });
      expect(rest.items.map((e) => e.id)).toEqual(['c0']);
      expect(rest.nextCursor).toBeUndefined();
    });

    it('counts events in epoch-aligned buckets under the same filters as the list', async () => {
      const tenant = testTenant();
      await warehouse.insertEvents([
        execEvent({ tenant, at: T0 }),
        execEvent({ tenant, at: T0 + 59 * SECOND }),
        execEvent({ tenant, at: T0 + 61 * SECOND }),
        fileEvent({ tenant, at: T0 + 62 * SECOND, path: '/tmp/x' }),
        execEvent({ tenant, at: T0 + 300 * SECOND }),
      ]);
      const range = { fromMicros: T0, toMicros: T0 + 600 * SECOND };
      expect(await warehouse.countEvents(tenant, range, 60)).toEqual([
        { startMicros: T0, count: 2 },
        { startMicros: T0 + 60 * SECOND, count: 2 },
        { startMicros: T0 + 300 * SECOND, count: 1 },
      ]);
      expect(
        await warehouse.countEvents(tenant, { ...range, kinds: ['process_exec'] }, 3600),
      ).toEqual([{ startMicros: T0, count: 4 }]);
    });
  });

  describe('alerts', () => {
    it('lists and counts alerts by severity, rule, status, workload and time', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([
        alert(tenant, { id: 'a1', severity: 'critical', observedUnixMicros: T0 }),
        alert(tenant, { id: 'a2', severity: 'high', observedUnixMicros: T0 + SECOND }),
        alert(tenant, {
          id: 'a3',
          severity: 'low',
          ruleId: 'write-below-etc',
          namespace: 'payments',
          observedUnixMicros: T0 + 2 * SECOND,
        }),
      ]);
      await warehouse.insertAlerts([alert(testTenant(), { id: 'other', severity: 'critical' })]);
      const ids = async (filter: Parameters<Warehouse['listAlerts']>[1]) =>
        (await warehouse.listAlerts(tenant, filter)).items.map((a) => a.id);
      expect(await ids({})).toEqual(['a3', 'a2', 'a1']);
      expect(await ids({ severities: ['critical', 'high'] })).toEqual(['a2', 'a1']);
      expect(await ids({ ruleIds: ['write-below-etc'] })).toEqual(['a3']);
      expect(await ids({ namespace: 'payments' })).toEqual(['a3']);
      expect(await ids({ fromMicros: T0 + SECOND })).toEqual(['a3', 'a2']);
      expect(await ids({ statuses: ['resolved'] })).toEqual([]);
      const [first] = (await warehouse.listAlerts(tenant, { severities: ['critical'] })).items;
      expect(first).toMatchObject({
        status: 'open',
        ruleName: 'Terminal shell in container',
        tags: ['mitre_execution'],
        details: { 'proc.cmdline': 'sh -i' },
      });
      expect(await warehouse.countAlertsBySeverity(tenant)).toEqual({
        info: 0,
        low: 1,
        medium: 0,
        high: 1,
        critical: 1,
      });
      expect(await warehouse.countAlertsBySeverity(tenant, { namespace: 'citizens' })).toEqual({
        info: 0,
        low: 0,
        medium: 0,
        high: 1,
        critical: 1,
      });
      const page = await warehouse.listAlerts(tenant, {}, { limit: 2 });
      expect(page.items.map((a) => a.id)).toEqual(['a3', 'a2']);
      const rest = await warehouse.listAlerts(tenant, {}, { limit: 2, cursor: page.nextCursor });
      expect(rest).toEqual({ items: [expect.objectContaining({ id: 'a1' })] });
    });

    it('keeps an analyst’s status when the detector replays the alert', async () => {
      const tenant = testTenant();
      const raised = alert(tenant, { id: 'r1' });
      await warehouse.insertAlerts([raised, alert(tenant, { id: 'r2' })]);
      await warehouse.setAlertStatus(tenant, ['r1'], 'resolved');
      await warehouse.setAlertStatus(testTenant(), ['r2'], 'resolved'); // another tenant's call
      await warehouse.insertAlerts([raised]); // replay
      const statuses = async () =>
        Object.fromEntries((await warehouse.listAlerts(tenant)).items.map((a) => [a.id, a.status]));
      expect(await statuses()).toEqual({ r1: 'resolved', r2: 'open' });
      expect(await warehouse.countAlertsBySeverity(tenant, { statuses: ['open'] })).toMatchObject({
        high: 1,
      });
    });
  });

  describe('incidents', () => {
    const HOUR = INCIDENT_WINDOW_SECONDS * SECOND;
    /** The incident id as the schema defines it: SHA-256 of the key, NUL-separated, 32 hex. */
    const incidentId = (tenant: string, rule: string, workload: string, windowMicros: number) =>
      createHash('sha256')
        .update([tenant, rule, workload, String(windowMicros / SECOND)].join('\0'))
        .digest('hex')
        .slice(0, 32);
    const byKey = (items: StoredIncident[]) =>
      Object.fromEntries(
        items.map((i) => [`${i.ruleId} ${i.workload.key} ${i.windowStartUnixMicros}`, i]),
      );

    it('rolls alerts of one rule on one workload within an hour up into one incident', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([
        alert(tenant, {
          id: 'x1',
          severity: 'medium',
          title: 'first',
          observedUnixMicros: T0 + 10 * SECOND,
        }),
        alert(tenant, {
          id: 'x2',
          severity: 'critical',
          title: 'second',
          observedUnixMicros: T0 + 20 * SECOND,
        }),
        alert(tenant, {
          id: 'x3',
          severity: 'low',
          title: 'third',
          observedUnixMicros: T0 + HOUR - 1,
        }),
        // Same pod, another container of it: still the pod.
        alert(tenant, { id: 'x4', containerId: 'c0ffee02', observedUnixMicros: T0 + 30 * SECOND }),
      ]);
      const { items, nextCursor } = await warehouse.listIncidents(tenant);
      expect(nextCursor).toBeUndefined();
      expect(items).toEqual([
        {
          id: incidentId(tenant, 'shell-in-container', 'citizens/portal-7d9f', T0),
          ruleId: 'shell-in-container',
          ruleName: 'Terminal shell in container',
          workload: {
            kind: 'pod',
            key: 'citizens/portal-7d9f',
            namespace: 'citizens',
            podName: 'portal-7d9f',
            containerId: expect.stringMatching(/^c0ffee0[12]$/) as unknown,
            hostname: 'node-1.city-a',
          },
          windowStartUnixMicros: T0,
          severity: 'critical',
          title: 'first',
          alertCount: 4,
          firstSeenUnixMicros: T0 + 10 * SECOND,
          lastSeenUnixMicros: T0 + HOUR - 1,
          status: 'open',
        },
      ]);
    });

    it('keeps incidents apart by rule, workload, window and tenant', async () => {
      const tenant = testTenant();
      const other = testTenant();
      await warehouse.insertAlerts([
        alert(tenant, { id: 's1', observedUnixMicros: T0 }),
        alert(tenant, { id: 's2', observedUnixMicros: T0 + SECOND }),
        alert(tenant, { id: 's3', ruleId: 'miner', observedUnixMicros: T0 + 2 * SECOND }),
        alert(tenant, { id: 's4', podName: 'portal-aaaa', observedUnixMicros: T0 + 3 * SECOND }),
        alert(tenant, { id: 's5', observedUnixMicros: T0 + HOUR }),
        alert(tenant, {
          id: 's6',
          namespace: '',
          podName: '',
          containerId: '',
          observedUnixMicros: T0 + 4 * SECOND,
        }),
        alert(tenant, {
          id: 's7',
          namespace: '',
          podName: '',
          observedUnixMicros: T0 + 5 * SECOND,
        }),
        alert(other, { id: 's1', observedUnixMicros: T0 }),
      ]);
      const { items } = await warehouse.listIncidents(tenant);
      const counts = Object.fromEntries(
        Object.entries(byKey(items)).map(([key, i]) => [key, [i.alertCount, i.workload.kind]]),
      );
      expect(counts).toEqual({
        [`shell-in-container citizens/portal-7d9f ${T0}`]: [2, 'pod'],
        [`miner citizens/portal-7d9f ${T0}`]: [1, 'pod'],
        [`shell-in-container citizens/portal-aaaa ${T0}`]: [1, 'pod'],
        [`shell-in-container citizens/portal-7d9f ${T0 + HOUR}`]: [1, 'pod'],
        [`shell-in-container host:node-1.city-a ${T0}`]: [1, 'host'],
        [`shell-in-container container:c0ffee01 ${T0}`]: [1, 'container'],
      });
      // Newest last-seen first.
      expect(items[0]?.windowStartUnixMicros).toBe(T0 + HOUR);
      const theirs = (await warehouse.listIncidents(other)).items;
      expect(theirs.map((i) => i.alertCount)).toEqual([1]);
      // Same rule, workload and window, another tenant: another id.
      expect(theirs[0]?.id).not.toBe(
        byKey(items)[`shell-in-container citizens/portal-7d9f ${T0}`]?.id,
      );
    });

    /** A WAAS alert outside any pod or container, seen by the proxy on `hostname`. */
    const webAlert = (
      tenant: string,
      id: string,
      at: number,
      hostname: string,
      details: Record<string, string>,
    ) =>
      alert(tenant, {
        id,
        ruleId: 'mamori:Web attack not blocked',
        namespace: '',
        podName: '',
        containerId: '',
        hostname,
        observedUnixMicros: T0 + at * SECOND,
        details,
      });

    it('rolls the WAAS alerts outside any container up per web application, across proxies', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([
        webAlert(tenant, 'w1', 1, 'proxy-1', { 'waas.policy': 'shop' }),
        webAlert(tenant, 'w2', 2, 'proxy-2', { 'waas.policy': 'shop' }),
        webAlert(tenant, 'w3', 3, 'proxy-1', { 'waas.policy': 'portal' }),
        // An access-log alert without a policy: the host, as before. The Host header is the
        // client's to choose, so it never makes a key.
        webAlert(tenant, 'w4', 4, 'proxy-1', { 'http.host': 'shop.city.example' }),
      ]);
      const { items } = await warehouse.listIncidents(tenant);
      const counts = Object.fromEntries(
        items.map((i) => [i.workload.key, [i.alertCount, i.workload.kind]]),
      );
      // One view rolls alerts up: none is counted under its proxy's host as well.
      expect(counts).toEqual({
        'web:shop': [2, 'web'],
        'web:portal': [1, 'web'],
        'host:proxy-1': [1, 'host'],
      });
      const id = incidentId(tenant, 'mamori:Web attack not blocked', 'web:shop', T0);
      const shop = await warehouse.getIncident(tenant, id);
      expect(shop?.alerts.items.map((a) => a.id)).toEqual(['w2', 'w1']);
    });

    it('keeps the WAAS incidents rolled up before schema 8, and rolls later alerts up per application', async () => {
      const db = testDatabase('incidents8');
      try {
        await migrate(client, { database: db, retentionDays: 30 }, MIGRATIONS.slice(0, 7));
        const old = createWarehouse({ client, database: db });
        const tenant = testTenant();
        const shop = { 'waas.policy': 'shop' };
        await old.insertAlerts([webAlert(tenant, 'before', 1, 'proxy-1', shop)]);
        expect((await migrate(client, { database: db, retentionDays: 30 })).applied).toEqual([8]);
        await old.insertAlerts([webAlert(tenant, 'after', 2, 'proxy-1', shop)]);
        const { items } = await old.listIncidents(tenant);
        expect(items.map((i) => [i.workload.key, i.alertCount]).sort()).toEqual([
          ['host:proxy-1', 1],
          ['web:shop', 1],
        ]);
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });

    it('never counts a replayed or re-statused alert twice', async () => {
      const tenant = testTenant();
      const batch = [1, 2, 3].map((i) =>
        alert(tenant, { id: `r${i}`, observedUnixMicros: T0 + i * SECOND }),
      );
      await warehouse.insertAlerts(batch);
      await warehouse.insertAlerts(batch); // detector replay
      await warehouse.insertAlerts(batch.slice(1)); // replay with other batch boundaries
      await warehouse.setAlertStatus(tenant, ['r1', 'r2'], 'acknowledged'); // re-inserts them
      await warehouse.setAlertStatus(tenant, ['r1'], 'resolved');
      const count = async () => {
        const [incident] = (await warehouse.listIncidents(tenant)).items;
        return incident?.alertCount;
      };
      expect(await count()).toBe(3);
      await client.command({ query: `OPTIMIZE TABLE ${database}.incidents FINAL` });
      expect(await count()).toBe(3);
      expect(await warehouse.countIncidentsBySeverity(tenant)).toMatchObject({ high: 1 });
    });

    it('rolls up alerts stored before incidents existed', async () => {
      const db = testDatabase('backfill');
      try {
        await migrate(client, { database: db, retentionDays: 30 }, MIGRATIONS.slice(0, 5));
        const old = createWarehouse({ client, database: db });
        const tenant = testTenant();
        await client.insert({
          table: `${db}.alerts`,
          values: ['b1', 'b2'].map((id, i) => ({
            tenant_id: tenant,
            observed_at: T0 + i * SECOND,
            id,
            updated_at: T0 + i * SECOND,
            rule_id: 'miner',
            rule_name: 'Miner',
            severity: 'high',
            status: 'open',
            title: 'xmrig',
            hostname: 'node-1',
          })),
          format: 'JSONEachRow',
        });
        expect(
          (await migrate(client, { database: db, retentionDays: 30 }, MIGRATIONS.slice(0, 6)))
            .applied,
        ).toEqual([6]);
        const { items } = await old.listIncidents(tenant);
        expect(items.map((i) => [i.workload.key, i.alertCount])).toEqual([['host:node-1', 2]]);
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });

    it('shows an incident with a page of its alerts, to its own tenant only', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([
        ...[0, 1, 2].map((i) =>
          alert(tenant, { id: `g${i}`, observedUnixMicros: T0 + i * SECOND }),
        ),
        alert(tenant, { id: 'g-other-pod', podName: 'x', observedUnixMicros: T0 }),
        alert(tenant, { id: 'g-next-hour', observedUnixMicros: T0 + HOUR }),
        alert(tenant, { id: 'g-other-rule', ruleId: 'miner', observedUnixMicros: T0 }),
      ]);
      const id = incidentId(tenant, 'shell-in-container', 'citizens/portal-7d9f', T0);
      const first = await warehouse.getIncident(tenant, id, { limit: 2 });
      expect(first).toMatchObject({ id, alertCount: 3, status: 'open' });
      expect(first?.alerts.items.map((a) => a.id)).toEqual(['g2', 'g1']);
      const rest = await warehouse.getIncident(tenant, id, {
        limit: 2,
        cursor: first?.alerts.nextCursor,
      });
      expect(rest?.alerts).toEqual({ items: [expect.objectContaining({ id: 'g0' })] });
      expect(await warehouse.getIncident(testTenant(), id)).toBeUndefined();
      expect(await warehouse.getIncident(tenant, 'no-such-incident')).toBeUndefined();
    });

    it('keeps an incident’s status, latest first, for alerts that join it later, with an audit trail', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([alert(tenant, { id: 't1', observedUnixMicros: T0 })]);
      const [incident] = (await warehouse.listIncidents(tenant)).items;
      const id = incident!.id;
      expect(
        await warehouse.setIncidentStatus(tenant, id, 'acknowledged', {
          actor: 'alice',
          atMicros: T0 + 10 * SECOND,
        }),
      ).toBe(true);
      expect(
        await warehouse.setIncidentStatus(tenant, id, 'suppressed', {
          actor: 'bob',
          note: 'known scanner',
          atMicros: T0 + 20 * SECOND,
        }),
      ).toBe(true);
      // Another tenant's call changes nothing and records nothing.
      expect(
        await warehouse.setIncidentStatus(testTenant(), id, 'resolved', { actor: 'eve' }),
      ).toBe(false);
      // A noisy rule keeps firing: the alerts join the suppressed incident.
      await warehouse.insertAlerts([
        alert(tenant, { id: 't2', observedUnixMicros: T0 + 30 * SECOND }),
        alert(tenant, { id: 't3', observedUnixMicros: T0 + 40 * SECOND }),
      ]);
      const after = await warehouse.getIncident(tenant, id);
      expect(after).toMatchObject({
        alertCount: 3,
        status: 'suppressed',
        statusChange: { actor: 'bob', note: 'known scanner', atMicros: T0 + 20 * SECOND },
      });
      expect(
        (await warehouse.listIncidents(tenant, { statuses: ['suppressed'] })).items,
      ).toHaveLength(1);
      expect((await warehouse.listIncidents(tenant, { statuses: ['open'] })).items).toEqual([]);
      const trail = await warehouse.listAudit(tenant, { type: 'incident', id });
      expect(trail.items).toEqual([
        {
          targetType: 'incident',
          targetId: id,
          action: 'suppress',
          actor: 'bob',
          atMicros: T0 + 20 * SECOND,
          note: 'known scanner',
        },
        expect.objectContaining({ action: 'acknowledge', actor: 'alice', note: '' }),
      ]);
      const page = await warehouse.listAudit(tenant, { type: 'incident', id }, { limit: 1 });
      const next = await warehouse.listAudit(
        tenant,
        { type: 'incident', id },
        { limit: 1, cursor: page.nextCursor },
      );
      expect([...page.items, ...next.items].map((e) => e.action)).toEqual([
        'suppress',
        'acknowledge',
      ]);
      expect(next.nextCursor).toBeUndefined();
      expect((await warehouse.listAudit(testTenant(), { type: 'incident', id })).items).toEqual([]);
    });

    it('records who changed an alert’s status, and only for alerts of the tenant', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([alert(tenant, { id: 'u1' }), alert(tenant, { id: 'u1' })]);
      await warehouse.setAlertStatus(tenant, ['u1', 'nope'], 'suppressed', {
        actor: 'carol',
        note: 'benign cron',
        atMicros: T0 + SECOND,
      });
      await warehouse.setAlertStatus(testTenant(), ['u1'], 'resolved', { actor: 'eve' });
      expect((await warehouse.listAlerts(tenant)).items.map((a) => a.status)).toEqual([
        'suppressed',
      ]);
      expect((await warehouse.listAudit(tenant, { type: 'alert', id: 'u1' })).items).toEqual([
        {
          targetType: 'alert',
          targetId: 'u1',
          action: 'suppress',
          actor: 'carol',
          atMicros: T0 + SECOND,
          note: 'benign cron',
        },
      ]);
      expect((await warehouse.listAudit(tenant, { type: 'alert', id: 'nope' })).items).toEqual([]);
      const tooLong = await rejection(
        warehouse.setAlertStatus(tenant, ['u1'], 'resolved', { note: 'x'.repeat(5000) }),
      );
      expect(isMamoriError(tooLong, 'MAMORI_VALIDATION') && tooLong.context['field']).toBe('note');
    });

    it('filters incidents and counts them by severity, and pages without gaps', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([
        alert(tenant, { id: 'f1', severity: 'critical', observedUnixMicros: T0 }),
        alert(tenant, { id: 'f2', severity: 'low', observedUnixMicros: T0 + SECOND }),
        alert(tenant, {
          id: 'f3',
          ruleId: 'miner',
          severity: 'medium',
          observedUnixMicros: T0 + 2 * SECOND,
        }),
        alert(tenant, {
          id: 'f4',
          namespace: 'payments',
          podName: 'pay-1',
          hostname: 'node-2',
          severity: 'low',
          observedUnixMicros: T0 + 3 * SECOND,
        }),
        alert(tenant, { id: 'f5', severity: 'info', observedUnixMicros: T0 + 2 * HOUR }),
      ]);
      const keys = async (filter: Parameters<Warehouse['listIncidents']>[1]) =>
        (await warehouse.listIncidents(tenant, filter)).items.map(
          (i) => `${i.ruleId} ${i.workload.key} ${(i.windowStartUnixMicros - T0) / HOUR}`,
        );
      expect(await keys({})).toEqual([
        'shell-in-container citizens/portal-7d9f 2',
        'shell-in-container payments/pay-1 0',
        'miner citizens/portal-7d9f 0',
        'shell-in-container citizens/portal-7d9f 0',
      ]);
      expect(await keys({ severities: ['critical'] })).toEqual([
        'shell-in-container citizens/portal-7d9f 0',
      ]);
      expect(await keys({ ruleIds: ['miner'] })).toEqual(['miner citizens/portal-7d9f 0']);
      expect(await keys({ namespace: 'payments' })).toEqual([
        'shell-in-container payments/pay-1 0',
      ]);
      expect(await keys({ podName: 'pay-1', hostname: 'node-2' })).toEqual([
        'shell-in-container payments/pay-1 0',
      ]);
      expect(await keys({ workload: 'payments/pay-1' })).toEqual([
        'shell-in-container payments/pay-1 0',
      ]);
      // An incident lies in a range when its alerts could: first seen before the end, last after the start.
      expect(await keys({ fromMicros: T0 + 2 * SECOND, toMicros: T0 + HOUR })).toEqual([
        'shell-in-container payments/pay-1 0',
        'miner citizens/portal-7d9f 0',
      ]);
      expect(await keys({ fromMicros: T0 + HOUR })).toEqual([
        'shell-in-container citizens/portal-7d9f 2',
      ]);
      expect(await warehouse.countIncidentsBySeverity(tenant)).toEqual({
        info: 1,
        low: 1,
        medium: 1,
        high: 0,
        critical: 1,
      });
      expect(await warehouse.countIncidentsBySeverity(tenant, { namespace: 'citizens' })).toEqual({
        info: 1,
        low: 0,
        medium: 1,
        high: 0,
        critical: 1,
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await warehouse.listIncidents(tenant, {}, { limit: 3, cursor });
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual((await warehouse.listIncidents(tenant)).items.map((i) => i.id));
      expect(seen).toHaveLength(4);
      expect((await warehouse.listIncidents(testTenant())).items).toEqual([]);
      expect(await warehouse.countIncidentsBySeverity(testTenant())).toMatchObject({ critical: 0 });
      const bad = await rejection(warehouse.listIncidents(tenant, {}, { cursor: 'bm9wZQ' }));
      expect(isMamoriError(bad, 'MAMORI_VALIDATION') && bad.context['field']).toBe('cursor');
    });
    describe('newest first, window by window', () => {
      /** A seeded generator, so that a failure can be replayed. */
      const random = (seed: number) => () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      const SEVERITY_ORDER = ['info', 'low', 'medium', 'high', 'critical'] as const;

      /**
       * Alerts of one tenant in a few busy windows, in windows days apart (older than the
       * bounded probes reach: 2 + 16 + 128 windows), and in a window in between; and the
       * incidents they make, computed here as the view defines them.
       */
      async function history(seed: number) {
        const tenant = testTenant();
        const next = random(seed);
        const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
        // Hours before T0: the busy recent ones, one beyond the first probe, and old ones.
        const hours = [0, 0, 0, -1, -2, -3, -10, -40, -200, -200, -500];
        const alerts: AlertInput[] = hours.flatMap((hour, h) =>
          Array.from({ length: 1 + Math.floor(next() * 4) }, (_, i) =>
            alert(tenant, {
              id: `p${h}-${i}`,
              ruleId: pick(['shell-in-container', 'miner']),
              podName: pick(['portal-1', 'portal-2']),
              severity: pick(SEVERITY_ORDER),
              observedUnixMicros: T0 + hour * HOUR + Math.floor(next() * HOUR),
            }),
          ),
        );
        await warehouse.insertAlerts(alerts);
        // Another tenant's newer alerts never move where this tenant's probes start.
        await warehouse.insertAlerts([
          alert(testTenant(), { id: 'newer', observedUnixMicros: T0 + 5 * HOUR }),
        ]);
        const incidents = new Map<
          string,
          { id: string; last: number; first: number; severity: number; count: number }
        >();
        for (const a of alerts) {
          const window = Math.floor(a.observedUnixMicros / HOUR) * HOUR;
          const workload = `${a.namespace}/${a.podName}`;
          const id = incidentId(tenant, a.ruleId, workload, window);
          const seen = incidents.get(id) ?? {
            id,
            last: a.observedUnixMicros,
            first: a.observedUnixMicros,
            severity: 0,
            count: 0,
          };
          seen.last = Math.max(seen.last, a.observedUnixMicros);
          seen.first = Math.min(seen.first, a.observedUnixMicros);
          seen.severity = Math.max(seen.severity, SEVERITY_ORDER.indexOf(a.severity));
          seen.count++;
          incidents.set(id, seen);
        }
        const expected = [...incidents.values()].sort((a, b) =>
          a.last !== b.last ? b.last - a.last : a.id < b.id ? 1 : -1,
        );
        return { tenant, expected };
      }

      async function pageAll(
        tenant: string,
        filter: Parameters<Warehouse['listIncidents']>[1],
        limit: number,
      ): Promise<StoredIncident[]> {
        const seen: StoredIncident[] = [];
        let cursor: string | undefined;
        do {
          const page = await warehouse.listIncidents(tenant, filter, { limit, cursor });
          expect(page.items.length).toBeLessThanOrEqual(limit);
          if (page.nextCursor !== undefined) expect(page.items).toHaveLength(limit);
          seen.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor !== undefined);
        return seen;
      }

      it('lists what merging every incident would, in windows days apart and across page boundaries', async () => {
        for (const seed of [1, 2]) {
          const { tenant, expected } = await history(seed);
          const summary = (items: StoredIncident[]) =>
            items.map((i) => [i.id, i.lastSeenUnixMicros, i.alertCount, i.severity]);
          const want = expected.map((e) => [e.id, e.last, e.count, SEVERITY_ORDER[e.severity]]);
          expect(
            summary((await warehouse.listIncidents(tenant, {}, { limit: 1000 })).items),
          ).toEqual(want);
          for (const limit of [1, 2, 3, 7]) {
            expect(summary(await pageAll(tenant, {}, limit))).toEqual(want);
          }
          // A filter that only old incidents pass, and time ranges that end the probing early.
          for (const severity of SEVERITY_ORDER) {
            expect((await pageAll(tenant, { severities: [severity] }, 2)).map((i) => i.id)).toEqual(
              expected.filter((e) => SEVERITY_ORDER[e.severity] === severity).map((e) => e.id),
            );
          }
          const ranges = [
            { fromMicros: T0 - 3 * HOUR + 10 * SECOND },
            { toMicros: T0 - 100 * HOUR },
            { fromMicros: T0 - 300 * HOUR, toMicros: T0 - HOUR / 2 },
          ];
          for (const range of ranges) {
            const inRange = expected.filter(
              (e) =>
                (range.fromMicros === undefined || e.last >= range.fromMicros) &&
                (range.toMicros === undefined || e.first < range.toMicros),
            );
            expect((await pageAll(tenant, range, 2)).map((i) => i.id)).toEqual(
              inRange.map((e) => e.id),
            );
          }
        }
      });

      it('finds a status filter’s incidents in windows older than the first probes', async () => {
        const { tenant, expected } = await history(4);
        const oldest = expected.at(-1)!;
        const middle = expected[Math.floor(expected.length / 2)]!;
        await warehouse.setIncidentStatus(tenant, oldest.id, 'suppressed');
        await warehouse.setIncidentStatus(tenant, middle.id, 'suppressed');
        const suppressed = await warehouse.listIncidents(
          tenant,
          { statuses: ['suppressed'] },
          { limit: 1 },
        );
        const rest = await warehouse.listIncidents(
          tenant,
          { statuses: ['suppressed'] },
          { limit: 1, cursor: suppressed.nextCursor },
        );
        expect([...suppressed.items, ...rest.items].map((i) => [i.id, i.status])).toEqual([
          [middle.id, 'suppressed'],
          [oldest.id, 'suppressed'],
        ]);
        expect(rest.nextCursor).toBeUndefined();
        expect((await pageAll(tenant, { statuses: ['open'] }, 3)).map((i) => i.id)).toEqual(
          expected.filter((e) => e !== oldest && e !== middle).map((e) => e.id),
        );
      });

      it('answers a filter nothing matches, and a tenant without incidents, with an empty page', async () => {
        const { tenant } = await history(5);
        expect(await warehouse.listIncidents(tenant, { workload: 'nowhere/none' })).toEqual({
          items: [],
        });
        expect(await warehouse.listIncidents(tenant, { ruleIds: ['no-such-rule'] })).toEqual({
          items: [],
        });
        expect(await warehouse.listIncidents(testTenant())).toEqual({ items: [] });
      });
    });
  });

  describe('audit of admin changes', () => {
    it('records admin changes and lists one target, or every target of a type, newest first', async () => {
      const tenant = testTenant();
      await warehouse.recordAudit(tenant, {
        targetType: 'policy',
        targetId: 'pol-web',
        action: 'create',
        actor: 'alice',
        note: 'baseline for the portal',
        atMicros: T0,
      });
      await warehouse.recordAudit(tenant, {
        targetType: 'policy',
        targetId: 'pol-db',
        action: 'update',
        actor: 'bob',
        atMicros: T0 + SECOND,
      });
      await warehouse.recordAudit(tenant, {
        targetType: 'policy',
        targetId: 'pol-web',
        action: 'disable',
        atMicros: T0 + 2 * SECOND,
      });
      await warehouse.recordAudit(tenant, {
        targetType: 'rule_exception',
        targetId: 'shell-in-container/ci-runner',
        action: 'create',
        actor: 'alice',
        atMicros: T0 + 3 * SECOND,
      });
      await warehouse.recordAudit(tenant, {
        targetType: 'rule',
        targetId: 'miner',
        action: 'enable',
        actor: 'carol',
        atMicros: T0 + 4 * SECOND,
      });
      const policies = await warehouse.listAudit(tenant, { type: 'policy' });
      expect(policies).toEqual({
        items: [
          {
            targetType: 'policy',
            targetId: 'pol-web',
            action: 'disable',
            actor: 'system',
            atMicros: T0 + 2 * SECOND,
            note: '',
          },
          {
            targetType: 'policy',
            targetId: 'pol-db',
            action: 'update',
            actor: 'bob',
            atMicros: T0 + SECOND,
            note: '',
          },
          {
            targetType: 'policy',
            targetId: 'pol-web',
            action: 'create',
            actor: 'alice',
            atMicros: T0,
            note: 'baseline for the portal',
          },
        ],
      });
      expect(
        (await warehouse.listAudit(tenant, { type: 'policy', id: 'pol-web' })).items.map(
          (e) => e.action,
        ),
      ).toEqual(['disable', 'create']);
      expect((await warehouse.listAudit(tenant, { type: 'rule_exception' })).items).toEqual([
        expect.objectContaining({ targetId: 'shell-in-container/ci-runner', action: 'create' }),
      ]);
      expect((await warehouse.listAudit(tenant, { type: 'rule', id: 'miner' })).items).toEqual([
        expect.objectContaining({ action: 'enable', actor: 'carol' }),
      ]);
      // Pages across targets without gaps or repeats.
      const first = await warehouse.listAudit(tenant, { type: 'policy' }, { limit: 2 });
      const rest = await warehouse.listAudit(
        tenant,
        { type: 'policy' },
        { limit: 2, cursor: first.nextCursor },
      );
      expect([...first.items, ...rest.items]).toEqual(policies.items);
      expect(rest.nextCursor).toBeUndefined();
    });

    it("never shows one tenant's audit entries to another", async () => {
      const tenant = testTenant();
      const other = testTenant();
      await warehouse.recordAudit(tenant, {
        targetType: 'policy',
        targetId: 'pol-shared-name',
        action: 'delete',
        actor: 'alice',
      });
      await warehouse.recordAudit(other, {
        targetType: 'policy',
        targetId: 'pol-shared-name',
        action: 'create',
        actor: 'mallory',
      });
      const mine = await warehouse.listAudit(tenant, { type: 'policy' });
      expect(mine.items.map((e) => [e.action, e.actor])).toEqual([['delete', 'alice']]);
      const byId = await warehouse.listAudit(tenant, { type: 'policy', id: 'pol-shared-name' });
      expect(byId.items.map((e) => e.actor)).toEqual(['alice']);
      expect((await warehouse.listAudit(testTenant(), { type: 'policy' })).items).toEqual([]);
    });

    it('keeps triage and admin entries apart by target type', async () => {
      const tenant = testTenant();
      await warehouse.insertAlerts([alert(tenant, { id: 'same-id' })]);
      await warehouse.setAlertStatus(tenant, ['same-id'], 'resolved', { actor: 'dave' });
      await warehouse.recordAudit(tenant, {
        targetType: 'rule',
        targetId: 'same-id',
        action: 'disable',
      });
      expect((await warehouse.listAudit(tenant, { type: 'alert' })).items).toEqual([
        expect.objectContaining({ targetType: 'alert', action: 'resolve', actor: 'dave' }),
      ]);
      expect((await warehouse.listAudit(tenant, { type: 'rule' })).items).toEqual([
        expect.objectContaining({ targetType: 'rule', action: 'disable', actor: 'system' }),
      ]);
    });

    it('refuses a bad entry, naming the field, and records nothing', async () => {
      const tenant = testTenant();
      const good = { targetType: 'policy', targetId: 'pol-1', action: 'update' } as const;
      const field = async (tenantId: string, entry: object) => {
        // `entry` holds values the type refuses, as an untyped caller could pass them.
        const error = await rejection(warehouse.recordAudit(tenantId, { ...good, ...entry }));
        return isMamoriError(error, 'MAMORI_VALIDATION') ? error.context['field'] : error;
      };
      expect(await field('', {})).toBe('tenantId');
      expect(await field(tenant, { targetType: 'tenant' })).toBe('targetType');
      expect(await field(tenant, { targetId: '' })).toBe('targetId');
      expect(await field(tenant, { targetId: 'p'.repeat(257) })).toBe('targetId');
      expect(await field(tenant, { action: 'drop' })).toBe('action');
      expect(await field(tenant, { actor: '' })).toBe('actor');
      expect(await field(tenant, { note: 'x'.repeat(4097) })).toBe('note');
      expect(await field(tenant, { atMicros: 1.5 })).toBe('atMicros');
      expect((await warehouse.listAudit(tenant, { type: 'policy' })).items).toEqual([]);
      const badType = await rejection(warehouse.listAudit(tenant, { type: 'tenant' as 'policy' }));
      expect(isMamoriError(badType, 'MAMORI_VALIDATION') && badType.context['field']).toBe(
        'targetType',
      );
      // The longest id is fine.
      await warehouse.recordAudit(tenant, { ...good, targetId: 'p'.repeat(256) });
      expect((await warehouse.listAudit(tenant, { type: 'policy' })).items).toHaveLength(1);
    });

    it('keeps the triage entries recorded before schema 7', async () => {
      const db = testDatabase('audit7');
      try {
        await migrate(client, { database: db, retentionDays: 30 }, MIGRATIONS.slice(0, 6));
        const old = createWarehouse({ client, database: db });
        const tenant = testTenant();
        await old.insertAlerts([alert(tenant, { id: 'a-old' })]);
        await old.setAlertStatus(tenant, ['a-old'], 'acknowledged', {
          actor: 'erin',
          atMicros: T0 + SECOND,
        });
        const [incident] = (await old.listIncidents(tenant)).items;
        await old.setIncidentStatus(tenant, incident!.id, 'suppressed', {
          actor: 'erin',
          note: 'scanner',
          atMicros: T0 + 2 * SECOND,
        });
        const before = [
          ...(await old.listAudit(tenant, { type: 'alert', id: 'a-old' })).items,
          ...(await old.listAudit(tenant, { type: 'incident', id: incident!.id })).items,
        ];
        expect(before).toHaveLength(2);

        expect((await migrate(client, { database: db, retentionDays: 30 })).applied).toEqual([
          7, 8,
        ]);
        const after = [
          ...(await old.listAudit(tenant, { type: 'alert', id: 'a-old' })).items,
          ...(await old.listAudit(tenant, { type: 'incident', id: incident!.id })).items,
        ];
        expect(after).toEqual(before);
        // Merged parts keep them too (the enum's old values kept their numbers).
        await client.command({ query: `OPTIMIZE TABLE ${db}.triage_audit FINAL` });
        expect((await old.listAudit(tenant, { type: 'incident' })).items).toEqual([
          expect.objectContaining({ targetId: incident!.id, action: 'suppress', note: 'scanner' }),
        ]);
        await old.recordAudit(tenant, { targetType: 'policy', targetId: 'p', action: 'create' });
        expect((await old.listAudit(tenant, { type: 'policy' })).items).toHaveLength(1);
        expect((await old.listAudit(tenant, { type: 'alert' })).items).toEqual([
          expect.objectContaining({ targetId: 'a-old', action: 'acknowledge', actor: 'erin' }),
        ]);
      } finally {
        await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
      }
    });
  });

  describe('agents', () => {
    it('keeps the latest hello of each agent and pages by agent id', async () => {
      const tenant = testTenant();
      const hello = {
        tenantId: tenant,
        hostname: 'node-1.city-a',
        capabilities: ['process', 'file'],
        policyVersion: 'p1',
      };
      await warehouse.upsertAgents([
        { ...hello, agentId: 'node-1', lastSeenUnixMicros: T0, agentVersion: '1.0.0' },
        { ...hello, agentId: 'node-2', lastSeenUnixMicros: T0, agentVersion: '1.0.0' },
        { ...hello, agentId: 'node-3', lastSeenUnixMicros: T0, agentVersion: '1.0.0' },
      ]);
      await warehouse.upsertAgents([
        { ...hello, agentId: 'node-1', lastSeenUnixMicros: T0 + SECOND, agentVersion: '1.1.0' },
      ]);
      // A late, older hello does not win.
      await warehouse.upsertAgents([
        { ...hello, agentId: 'node-1', lastSeenUnixMicros: T0 - SECOND, agentVersion: '0.9.0' },
      ]);
      const first = await warehouse.listAgents(tenant, { limit: 2 });
      expect(first.items).toEqual([
        {
          agentId: 'node-1',
          lastSeenUnixMicros: T0 + SECOND,
          hostname: 'node-1.city-a',
          agentVersion: '1.1.0',
          capabilities: ['process', 'file'],
          policyVersion: 'p1',
          connected: true,
        },
        expect.objectContaining({ agentId: 'node-2' }),
      ]);
      const rest = await warehouse.listAgents(tenant, { limit: 2, cursor: first.nextCursor });
      expect(rest.items.map((a) => a.agentId)).toEqual(['node-3']);
      expect(rest.nextCursor).toBeUndefined();
      expect((await warehouse.listAgents(testTenant())).items).toEqual([]);

      // A disconnect is the newest status: the agent stays listed, not connected.
      await warehouse.upsertAgents([
        {
          ...hello,
          agentId: 'node-2',
          lastSeenUnixMicros: T0 + 2 * SECOND,
          agentVersion: '1.0.0',
          connected: false,
        },
      ]);
      const [, second] = (await warehouse.listAgents(tenant)).items;
      expect(second).toMatchObject({ agentId: 'node-2', connected: false });
    });
  });

  describe('workloads', () => {
    it('derives pods with their containers, images and hosts from events', async () => {
      const tenant = testTenant();
      const sidecar = {
        container_id: 'c0ffee02',
        container_name: 'envoy',
        image_repository: 'envoyproxy/envoy',
        image_tag: 'v1.30',
        image_digest: 'sha256:cccc',
      };
      const batch = [
        execEvent({ tenant, at: T0 }),
        execEvent({ tenant, at: T0 + 10 * SECOND }),
        execEvent({ tenant, at: T0 + 5 * SECOND, workload: sidecar }),
        execEvent({
          tenant,
          at: T0 + 20 * SECOND,
          hostname: 'node-2.city-a',
          workload: {
            namespace: 'payments',
            pod_name: 'pay-1',
            container_id: 'c0ffee03',
            image_repository: 'r/pay',
            image_tag: '2',
          },
        }),
        execEvent({ tenant, at: T0, workload: null }),
      ];
      await warehouse.insertEvents(batch);
      await warehouse.insertEvents(batch); // retried: changes nothing
      const { items } = await warehouse.listWorkloads(tenant);
      expect(items.map((w) => `${w.namespace}/${w.podName}`)).toEqual([
        'citizens/portal-7d9f',
        'payments/pay-1',
      ]);
      expect(items[0]).toEqual({
        namespace: 'citizens',
        podName: 'portal-7d9f',
        containers: [
          expect.objectContaining({ containerName: 'envoy', imageTag: 'v1.30' }),
          {
            containerId: 'c0ffee01',
            containerName: 'portal',
            runtime: 'containerd',
            privileged: false,
            imageRepository: 'registry.example.gov/city/portal',
            imageTag: '1.4.2',
            imageDigest: 'sha256:aaaa',
            hostname: 'node-1.city-a',
            firstSeenUnixMicros: T0,
            lastSeenUnixMicros: T0 + 10 * SECOND,
          },
        ],
        images: ['envoyproxy/envoy:v1.30', 'registry.example.gov/city/portal:1.4.2'],
        hosts: ['node-1.city-a'],
        firstSeenUnixMicros: T0,
        lastSeenUnixMicros: T0 + 10 * SECOND,
      });
      const pods = async (filter: Parameters<Warehouse['listWorkloads']>[1]) =>
        (await warehouse.listWorkloads(tenant, filter)).items.map((w) => w.podName);
      expect(await pods({ image: 'envoyproxy/envoy' })).toEqual(['portal-7d9f']);
      expect(await pods({ hostname: 'node-2.city-a' })).toEqual(['pay-1']);
      expect(await pods({ namespace: 'payments' })).toEqual(['pay-1']);
      expect(await pods({ seenSinceMicros: T0 + 15 * SECOND })).toEqual(['pay-1']);
      const page = await warehouse.listWorkloads(tenant, {}, { limit: 1 });
      const rest = await warehouse.listWorkloads(tenant, {}, { limit: 1, cursor: page.nextCursor });
      expect([...page.items, ...rest.items].map((w) => w.podName)).toEqual([
        'portal-7d9f',
        'pay-1',
      ]);
      expect(rest.nextCursor).toBeUndefined();
      expect((await warehouse.listWorkloads(testTenant())).items).toEqual([]);
    });
  });
}
