import { EventHeaders, protoType, type Event } from '@mamori/proto';
import { buildTemplates, EVENT_MIX, writeVarint } from '../ingest/events.js';

/**
 * The records of bench:detector: what ingest writes to the events topic. Routine events are
 * bench:ingest's templates (process, file, network, DNS and HTTP activity of a municipal
 * cluster) with the identity ingest stamps (tenant, agent, id, times); one in
 * `attackEvery` is an attack that fires one of Mamori's built-in rules.
 */

/** One record as ingest produces it: keyed `<tenant>/<agent>`, with the kind header. */
export interface EventRecord {
  key: Buffer;
  value: Buffer;
  headers: Record<string, string>;
}

const WORKLOAD: NonNullable<Event['workload']> = {
  container_id: '3f2a9c1b7d4e'.padEnd(64, 'a'),
  container_name: 'citizen-portal',
  runtime: 'containerd',
  pod_name: 'citizen-portal-7d9f8c0b5-x0k2p',
  namespace: 'portal',
  image_repository: 'registry.city.example/portal/web',
  image_tag: '4.2.1',
  image_digest: `sha256:${'3f2a9c1b7d4e'.padEnd(64, 'a')}`,
};

function attackProcess(exe: string, args: string[], parent: [string, string]) {
  return {
    pid: 4242,
    ppid: 4200,
    name: exe.slice(exe.lastIndexOf('/') + 1),
    exe,
    args,
    cwd: '/app',
    uid: 0,
    gid: 0,
    user: 'root',
    start_unix_micros: 1_764_000_000_000_000,
    ancestors: [
      { pid: 4200, name: parent[0], exe: parent[1], args: [parent[0]] },
      { pid: 1, name: 'tini', exe: '/sbin/tini', args: ['tini', '--'] },
    ],
    stdin_type: 'pipe',
    stdout_type: 'pipe',
    stderr_type: 'pipe',
  };
}

/** Attacks Mamori's built-in rules exist for, each with the kind ingest would name. */
const ATTACKS: [kind: string, event: Event][] = [
  [
    'process_exec',
    {
      process_exec: {
        process: attackProcess(
          '/tmp/xmrig',
          ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333'],
          ['sh', '/bin/sh'],
        ),
      },
    },
  ],
  [
    'process_exec',
    {
      process_exec: {
        process: {
          ...attackProcess('/bin/bash', ['bash'], ['runc', '/usr/bin/runc']),
          tty: 'pts/0',
        },
      },
    },
  ],
  [
    'file_open',
    {
      file_open: {
        process: attackProcess('/usr/bin/python3', ['python3', 'dump.py'], ['sh', '/bin/sh']),
        path: '/etc/shadow',
        flags: 0,
        write: false,
      },
    },
  ],
  [
    'network_connect',
    {
      network_connect: {
        process: attackProcess(
          '/usr/bin/curl',
          ['curl', '-s', 'http://169.254.169.254/'],
          ['sh', '/bin/sh'],
        ),
        connection: {
          protocol: 'L4_PROTOCOL_TCP',
          local_address: '10.42.0.17',
          local_port: 40_112,
          remote_address: '169.254.169.254',
          remote_port: 80,
        },
      },
    },
  ],
  [
    'process_exec',
    {
      process_exec: {
        process: attackProcess(
          '/usr/bin/apt-get',
          ['apt-get', 'install', '-y', 'nmap'],
          ['sh', '/bin/sh'],
        ),
      },
    },
  ],
];

function writeString(buf: Buffer, at: number, field: number, text: string): number {
  buf[at++] = (field << 3) | 2;
  at = writeVarint(buf, at, Buffer.byteLength(text));
  return at + buf.write(text, at);
}

function writeUint(buf: Buffer, at: number, field: number, value: number): number {
  buf[at++] = field << 3;
  return writeVarint(buf, at, value);
}

/** The identity ingest stamps (fields 1–5) followed by a template's bytes. */
function stamp(
  template: Buffer,
  identity: { id: string; tenant: string; agent: string; observed: number },
): Buffer {
  const size =
    template.length +
    5 * 2 +
    3 * 10 +
    Buffer.byteLength(identity.id) +
    identity.tenant.length +
    identity.agent.length +
    20;
  const out = Buffer.allocUnsafe(size);
  let at = writeString(out, 0, 1, identity.id);
  at = writeString(out, at, 2, identity.tenant);
  at = writeString(out, at, 3, identity.agent);
  at = writeUint(out, at, 4, identity.observed);
  at = writeUint(out, at, 5, identity.observed + 1500);
  at += template.copy(out, at);
  return out.subarray(0, at);
}

/** The payload kind of a routine template, in the order buildTemplates picks them. */
function templateKinds(count: number): string[] {
  const kinds = Object.entries(EVENT_MIX).flatMap(([kind, weight]) =>
    Array<string>(weight).fill(kind),
  );
  return Array.from({ length: count }, (_, i) => kinds[(i * 31) % kinds.length]!);
}

/** Distinct ports each peer of `peerConnects` is connected to: well under a port scan's 15. */
const PEER_PORTS = 5;

/**
 * Connections from the portal's pod to `peers` distinct addresses, `PEER_PORTS` ports each:
 * the many (source, destination) pairs of a busy cluster that the port scan rule keeps a
 * window for, without any of them looking like a scan.
 */
function peerConnects(peers: number): Buffer[] {
  const type = protoType('mamori.v1.Event');
  const out: Buffer[] = [];
  for (let p = 0; p < peers; p++) {
    for (let port = 0; port < PEER_PORTS; port++) {
      const event: Event = {
        host: { hostname: 'node-1', machine_id: 'b1946ac92492d2347c6235b4d2611184' },
        workload: WORKLOAD,
        labels: { sensor: 'runtime' },
        network_connect: {
          process: attackProcess('/usr/bin/node', ['node', 'server.js'], ['tini', '/sbin/tini']),
          connection: {
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '10.42.0.17',
            local_port: 40_000 + (p % 20_000),
            remote_address: `10.${100 + (p >> 16)}.${(p >> 8) & 255}.${p & 255}`,
            remote_port: 8000 + port,
          },
        },
      };
      out.push(Buffer.from(type.encode(type.fromObject(event)).finish()));
    }
  }
  return out;
}

/**
 * `count` event records: 4 tenants × 16 agents, each event with its own id and time; one in
 * `attackEvery` (0: none) is an attack that fires a built-in rule. With `peers`, each routine
 * network connection goes to one of that many distinct addresses (see `peerConnects`).
 */
export function* eventRecords(
  count: number,
  attackEvery: number,
  peers = 0,
): Generator<EventRecord> {
  const TEMPLATES = 400;
  const templates = buildTemplates(TEMPLATES);
  const kinds = templateKinds(TEMPLATES);
  const type = protoType('mamori.v1.Event');
  const attacks = ATTACKS.map(([kind, event]) => ({
    kind,
    bytes: Buffer.from(
      type
        .encode(
          type.fromObject({
            host: { hostname: 'node-1', machine_id: 'b1946ac92492d2347c6235b4d2611184' },
            workload: WORKLOAD,
            labels: { sensor: 'runtime' },
            ...event,
          }),
        )
        .finish(),
    ),
  }));
  const peerTemplates = peerConnects(peers);
  let connects = 0;
  const base = 1_764_000_000_000_000;
  for (let i = 0; i < count; i++) {
    const tenant = `city-${i % 4}`;
    const agent = `node-${(i >> 2) % 16}`;
    const attack = attackEvery > 0 && i % attackEvery === attackEvery - 1;
    let chosen = attack
      ? attacks[Math.floor(i / attackEvery) % attacks.length]!
      : { kind: kinds[i % TEMPLATES]!, bytes: templates[i % TEMPLATES]! };
    if (!attack && chosen.kind === 'network_connect' && peerTemplates.length > 0) {
      chosen = { kind: chosen.kind, bytes: peerTemplates[connects++ % peerTemplates.length]! };
    }
    yield {
      key: Buffer.from(`${tenant}/${agent}`),
      value: stamp(chosen.bytes, {
        id: `evt-${i.toString(36)}`,
        tenant,
        agent,
        observed: base + i,
      }),
      headers: { [EventHeaders.kind]: chosen.kind },
    };
  }
}
