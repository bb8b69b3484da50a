/**
 * A quick measurement, not a test: how many events per second `insertEvents` stores into
 * chDB on this machine, including the mapping from decoded events to rows. Prints one JSON
 * object on its last line.
 *
 *   npm run bench:warehouse -- \
 *     [--events 1000000] [--batch 20000] [--concurrency 1] [--dir /tmp/…]
 *
 * Also runs a few list and count queries over what it inserted and reports their latency.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEventCodec, type Event__Output } from '@mamori/proto';
import { createWarehouse, createWarehouseClient, encodeEventRow, migrate } from '@mamori/warehouse';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '20000' },
    dir: { type: 'string' },
    tenants: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '1' },
  },
});
const total = Number(values.events);
const batchSize = Number(values.batch);
const tenants = Number(values.tenants);
/** Inserts in flight at once, as a store consuming several partitions would have. */
const concurrency = Number(values.concurrency);
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'mamori-warehouse-bench-'));

const now = Date.now() * 1000;
const kinds = ['process_exec', 'file_open', 'network_connect', 'dns_query'] as const;

/** A realistic mix: 40 nodes, 200 pods, a few dozen process names, over the last 6 hours. */
function event(i: number): Event__Output {
  const kind = kinds[i % kinds.length]!;
  const pod = i % 200;
  const name = ['nginx', 'node', 'python3', 'sh', 'curl', 'java', 'postgres'][i % 7]!;
  const process = {
    pid: 1000 + (i % 30000),
    ppid: 1,
    name,
    exe: `/usr/bin/${name}`,
    args: [name, '--config', `/etc/${name}/conf.d/${i % 13}.conf`, `--worker=${i % 8}`],
    cwd: '/srv',
    uid: 1000,
    gid: 1000,
    user: 'app',
    tty: '',
    start_unix_micros: now - 3_600_000_000,
    ancestors: [{ pid: 1, name: 'containerd-shim', exe: '/usr/bin/containerd-shim', args: [] }],
    login_uid: -1,
    exe_hash: '',
    stdin_type: '',
    stdout_type: '',
    stderr_type: '',
    exe_upper_layer: false,
  };
  const base: Event__Output = {
    id: `01J${String(i).padStart(12, '0')}`,
    tenant_id: `city-${i % tenants}`,
    agent_id: `node-${i % 40}`,
    observed_unix_micros: now - 6 * 3_600_000_000 + Math.floor((i / total) * 6 * 3_600_000_000),
    received_unix_micros: now,
    host: {
      hostname: `node-${i % 40}.cluster.local`,
      machine_id: 'm',
      os: 'linux',
      kernel: '6.1',
      addresses: [],
    },
    workload: {
      container_id: `c${String(pod).padStart(63, '0')}`,
      container_name: `app-${pod % 20}`,
      runtime: 'containerd',
      privileged: false,
      pod_name: `app-${pod}-7d9f8b`,
      pod_uid: `uid-${pod}`,
      namespace: `ns-${pod % 12}`,
      image_repository: `registry.example.gov/city/app-${pod % 20}`,
      image_tag: '1.0.0',
      image_digest: `sha256:${String(pod % 20).padStart(64, '0')}`,
      pod_labels: { app: `app-${pod % 20}` },
    },
    labels: { sensor: 'ebpf' },
    payload: kind,
  };
  switch (kind) {
    case 'process_exec':
      return { ...base, process_exec: { process } };
    case 'file_open':
      return {
        ...base,
        file_open: { process, path: `/srv/data/${i % 1000}.json`, flags: 0, write: false },
      };
    case 'network_connect':
      return {
        ...base,
        network_connect: {
          process,
          connection: {
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '10.0.0.5',
            local_port: 40000 + (i % 20000),
            remote_address: `10.1.${i % 250}.${i % 200}`,
            remote_port: 443,
          },
        },
      };
    default:
      return {
        ...base,
        dns_query: {
          process,
          query: `svc-${i % 50}.example.gov`,
          query_type: 'A',
          response_code: 'NOERROR',
          answers: ['10.2.0.1'],
          server_address: '10.96.0.10',
        },
      };
  }
}

const client = createWarehouseClient({
  kind: 'embedded',
  path: dir,
  database: 'bench',
  retentionDays: 30,
});
try {
  await migrate(client, { database: 'bench', retentionDays: 30 });
  // As `openWarehouse` sets it up for chDB: inserts staged as files.
  const warehouse = createWarehouse({
    client,
    database: 'bench',
    stagingDir: join(dir, 'mamori-staging'),
  });
  const codec = createEventCodec();
  let next = 0;
  let inserted = 0;
  let busyMs = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const worker = async () => {
    while (next < total) {
      const from = next;
      const size = Math.min(batchSize, total - from);
      next += size;
      // What the store reads from the bus: each event's protobuf bytes.
      const records = Array.from({ length: size }, (_, k) => codec.encode(event(from + k)));
      const t = performance.now();
      await warehouse.insertEventRows(records.map(encodeEventRow));
      busyMs += performance.now() - t;
      inserted += size;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  // The whole process: this thread (events, rows, JSON) and chDB's (parsing, writing, merging).
  const cpu = process.cpuUsage(cpuBefore);

  const timings: Record<string, number[]> = { list: [], listFiltered: [], count: [] };
  const percentile = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
  for (let r = 0; r < 20; r++) {
    const tenant = `city-${r % tenants}`;
    let t = performance.now();
    const page = await warehouse.listEvents(tenant, {}, { limit: 50 });
    await warehouse.listEvents(tenant, {}, { limit: 50, cursor: page.nextCursor });
    timings['list']!.push((performance.now() - t) / 2);
    t = performance.now();
    await warehouse.listEvents(
      tenant,
      { namespace: 'ns-3', kinds: ['process_exec'] },
      { limit: 50 },
    );
    timings['listFiltered']!.push(performance.now() - t);
    t = performance.now();
    await warehouse.countEvents(
      tenant,
      { fromMicros: now - 6 * 3_600_000_000, toMicros: now },
      300,
    );
    timings['count']!.push(performance.now() - t);
  }
  console.log(
    JSON.stringify({
      events: inserted,
      batch: batchSize,
      concurrency,
      // Includes building the events, mapping them to rows and serialising them.
      eventsPerSecondWall: Math.round(inserted / (wallMs / 1000)),
      // Only rows and inserts (encodeEventRow, chDB), summed over concurrent calls.
      eventsPerSecondInsert: Math.round(inserted / (busyMs / 1000)),
      cpuMicrosPerEvent: Math.round(((cpu.user + cpu.system) / inserted) * 10) / 10,
      queryMs: Object.fromEntries(
        Object.entries(timings).map(([name, xs]) => [
          name,
          { p50: Math.round(percentile(xs, 0.5)), p95: Math.round(percentile(xs, 0.95)) },
        ]),
      ),
    }),
  );
} finally {
  await client.close();
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}
