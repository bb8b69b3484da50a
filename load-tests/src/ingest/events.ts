import { protoType, type Event } from '@mamori/proto';

/**
 * Synthetic events for simulated agents, as protobuf bytes. A pool of realistic templates
 * (process, file, network, DNS and HTTP activity of several containers) is encoded once;
 * each generated event is a template with a fresh id and timestamp prepended, so a simulated
 * agent spends its CPU on the wire, not on building objects — the server sees exactly what a
 * real agent sends.
 */

/** A container of the simulated municipal cluster. */
export interface Container {
  id: string;
  name: string;
  pod: string;
  namespace: string;
  image: string;
  tag: string;
}

/** The eight containers every benchmark's events come from. */
export const CONTAINERS: readonly Container[] = [
  ['portal', 'citizen-portal', 'registry.city.example/portal/web', '4.2.1'],
  ['portal', 'citizen-portal-api', 'registry.city.example/portal/api', '4.2.1'],
  ['tax', 'tax-calc', 'registry.city.example/tax/calc', '2025.11'],
  ['tax', 'tax-batch', 'registry.city.example/tax/batch', '2025.11'],
  ['records', 'records-db', 'docker.io/library/postgres', '16.4'],
  ['records', 'records-search', 'docker.io/opensearchproject/opensearch', '2.17.0'],
  ['ingress', 'nginx-ingress', 'registry.k8s.io/ingress-nginx/controller', 'v1.11.2'],
  ['payments', 'payments-gw', 'registry.city.example/payments/gateway', '1.9.0'],
].map(([namespace, name, image, tag], i) => ({
  id: (i + 1).toString(16).padStart(2, '0').repeat(32),
  name: name!,
  pod: `${name}-7d9f8c${i}b5-x${i}k2p`,
  namespace: namespace!,
  image: image!,
  tag: tag!,
}));

const PROCESSES = [
  { name: 'nginx', exe: '/usr/sbin/nginx', args: ['nginx', '-g', 'daemon off;'] },
  { name: 'node', exe: '/usr/local/bin/node', args: ['node', 'dist/server.js'] },
  { name: 'python3', exe: '/usr/bin/python3', args: ['python3', '-m', 'gunicorn', 'app:app'] },
  { name: 'sh', exe: '/bin/sh', args: ['sh', '-c', 'pg_isready -U postgres'] },
  {
    name: 'java',
    exe: '/opt/java/openjdk/bin/java',
    args: ['java', '-Xmx1g', '-jar', 'search.jar'],
  },
  { name: 'curl', exe: '/usr/bin/curl', args: ['curl', '-fsS', 'http://localhost:8080/healthz'] },
  {
    name: 'postgres',
    exe: '/usr/lib/postgresql/16/bin/postgres',
    args: ['postgres', '-D', '/var/lib/postgresql/data'],
  },
];

const FILES = [
  '/etc/nginx/nginx.conf',
  '/var/log/nginx/access.log',
  '/app/dist/server.js',
  '/tmp/upload-8f2a1c.pdf',
  '/var/lib/postgresql/data/base/16384/2619',
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/passwd',
  '/usr/share/zoneinfo/Asia/Tokyo',
];

const DOMAINS = [
  'api.tax.city.example',
  'db.records.svc.cluster.local',
  'registry.city.example',
  'ocsp.pki.goog',
  'time.google.com',
];
const PATHS = [
  '/api/v1/residents/1832',
  '/api/v1/tax/returns?year=2025',
  '/login',
  '/static/app.3f9c.js',
  '/api/v1/search?q=permit',
];

function pick<T>(items: readonly T[], i: number): T {
  return items[i % items.length]!;
}

/** The kinds of event a simulated node produces, with how often (percent). */
export const EVENT_MIX = {
  process_exec: 20,
  process_exit: 10,
  file_open: 20,
  file_write: 10,
  network_connect: 15,
  network_accept: 8,
  dns_query: 10,
  http_request: 7,
} as const;

/** Where an event comes from: its host, its workload (`container`) and its sensor. */
export function eventOrigin(
  container: Container,
  hostname: string,
  sensor: string,
): Pick<Event, 'host' | 'workload' | 'labels'> {
  return {
    host: {
      hostname,
      machine_id: 'b1946ac92492d2347c6235b4d2611184',
      kernel: '6.1.0-27-amd64',
    },
    workload: {
      container_id: container.id,
      container_name: container.name,
      runtime: 'containerd',
      pod_name: container.pod,
      namespace: container.namespace,
      image_repository: container.image,
      image_tag: container.tag,
      image_digest: `sha256:${container.id}`,
    },
    labels: { sensor },
  };
}

function template(kind: keyof typeof EVENT_MIX, i: number): Event {
  const container = pick(CONTAINERS, i);
  const proc = pick(PROCESSES, i * 7 + 3);
  const process = {
    pid: 1000 + ((i * 37) % 30_000),
    ppid: 1,
    name: proc.name,
    exe: proc.exe,
    args: proc.args,
    cwd: '/app',
    uid: i % 3 === 0 ? 0 : 1000,
    gid: 1000,
    user: i % 3 === 0 ? 'root' : 'app',
    start_unix_micros: 1_764_000_000_000_000,
    ancestors: [{ pid: 1, name: 'tini', exe: '/sbin/tini', args: ['tini', '--'] }],
  };
  const event: Event = eventOrigin(
    container,
    `node-${i % 4}`,
    kind.startsWith('http') ? 'waas' : 'runtime',
  );
  const connection = {
    protocol: 'L4_PROTOCOL_TCP' as const,
    local_address: `10.42.${i % 8}.${(i * 13) % 250}`,
    local_port: 30_000 + (i % 20_000),
    remote_address: `10.43.${(i * 3) % 8}.${(i * 7) % 250}`,
    remote_port: pick([5432, 443, 9200, 8080, 53], i),
  };
  switch (kind) {
    case 'process_exec':
      return { ...event, process_exec: { process } };
    case 'process_exit':
      return { ...event, process_exit: { process, exit_code: i % 11 === 0 ? 1 : 0 } };
    case 'file_open':
      return { ...event, file_open: { process, path: pick(FILES, i), flags: 0, write: false } };
    case 'file_write':
      return {
        ...event,
        file_write: { process, path: pick(FILES, i + 3), bytes_written: 512 + (i % 4096) },
      };
    case 'network_connect':
      return { ...event, network_connect: { process, connection } };
    case 'network_accept':
      return { ...event, network_accept: { process, connection } };
    case 'dns_query':
      return {
        ...event,
        dns_query: {
          process,
          query: pick(DOMAINS, i),
          query_type: 'A',
          response_code: 'NOERROR',
          answers: ['10.43.0.12'],
        },
      };
    case 'http_request':
      return {
        ...event,
        http_request: {
          request_id: `req-${i}`,
          method: i % 4 === 0 ? 'POST' : 'GET',
          url: pick(PATHS, i),
          http_version: '1.1',
          headers: [
            { name: 'host', value: 'portal.city.example' },
            { name: 'user-agent', value: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' },
            { name: 'accept', value: 'application/json' },
          ],
          body:
            i % 4 === 0 ? Buffer.from('{"residentId":1832,"form":"tax-2025"}') : Buffer.alloc(0),
          body_size: i % 4 === 0 ? 37 : 0,
          client_address: `203.0.113.${i % 250}`,
          client_port: 40_000 + (i % 20_000),
          server_name: 'portal.city.example',
          server_port: 443,
          tls: true,
        },
      };
  }
}

/** Encoded templates, in proportion to EVENT_MIX. */
export function buildTemplates(count = 400): Buffer[] {
  const type = protoType('mamori.v1.Event');
  const kinds = Object.entries(EVENT_MIX).flatMap(([kind, weight]) =>
    Array<string>(weight).fill(kind),
  );
  return Array.from({ length: count }, (_, i) => {
    const event = template(pick(kinds, i * 31) as keyof typeof EVENT_MIX, i);
    return Buffer.from(type.encode(type.fromObject(event)).finish());
  });
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Writes `value` as a protobuf varint at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    buf[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[offset++] = value;
  return offset;
}

/**
 * An encoded `AgentMessage{ batch: EventBatch{ sequence, events } }` whose events are
 * templates with a fresh `id` (field 1) and `observed_unix_micros` (field 4) each.
 */
export function encodeBatchMessage(
  sequence: number,
  templates: readonly Buffer[],
  ids: readonly string[],
  observedMicros: number,
): Buffer {
  const eventLengths = templates.map((t, i) => {
    const id = ids[i]!;
    return 1 + varintLength(id.length) + id.length + 1 + varintLength(observedMicros) + t.length;
  });
  let batchLength = 1 + varintLength(sequence);
  for (const length of eventLengths) batchLength += 1 + varintLength(length) + length;
  const total = 1 + varintLength(batchLength) + batchLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  out[at++] = (2 << 3) | 2; // AgentMessage.batch
  at = writeVarint(out, at, batchLength);
  out[at++] = (1 << 3) | 0; // EventBatch.sequence
  at = writeVarint(out, at, sequence);
  templates.forEach((t, i) => {
    const id = ids[i]!;
    out[at++] = (2 << 3) | 2; // EventBatch.events
    at = writeVarint(out, at, eventLengths[i]!);
    out[at++] = (1 << 3) | 2; // Event.id
    at = writeVarint(out, at, id.length);
    at += out.write(id, at, 'latin1');
    out[at++] = (4 << 3) | 0; // Event.observed_unix_micros
    at = writeVarint(out, at, observedMicros);
    at += t.copy(out, at);
  });
  return out;
}
