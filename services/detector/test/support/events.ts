import { randomBytes } from 'node:crypto';
import type { Bus } from '@mamori/bus';
import { createEventCodec, EventHeaders, type Alert__Output, type Event } from '@mamori/proto';
import { decodeMessage } from '@mamori/proto/wire';
import { EVENT_KINDS } from '@mamori/rules';

const codec = createEventCodec();
let counter = 0;

/** A container of the city portal, where the test processes run. */
export const PORTAL: Event['workload'] = {
  container_id: '3f2a9c1b7d4e',
  container_name: 'portal',
  runtime: 'containerd',
  pod_name: 'portal-7d9f',
  namespace: 'citizens',
  image_repository: 'registry.example.gov/city/portal',
  image_tag: '2.4.1',
};

/** A process_exec event of `args` in the portal container, as ingest would have stamped it. */
export function execEvent(args: string[], overrides: Partial<Event> = {}): Event {
  counter++;
  const now = Date.now() * 1000;
  const exe = args[0]!.startsWith('/') ? args[0]! : `/usr/bin/${args[0]!}`;
  return {
    id: `evt-${process.pid}-${counter}`,
    tenant_id: 'city-a',
    agent_id: 'node-1',
    observed_unix_micros: now,
    received_unix_micros: now + 1000,
    host: { hostname: 'node-1.city-a' },
    workload: PORTAL,
    process_exec: {
      process: {
        pid: 4000 + counter,
        ppid: 4000,
        name: exe.slice(exe.lastIndexOf('/') + 1),
        exe,
        args,
        cwd: '/srv',
        uid: 1000,
        user: 'app',
        ancestors: [
          { pid: 4000, name: 'node', exe: '/usr/local/bin/node', args: ['node', 'server.js'] },
        ],
      },
    },
    ...overrides,
  };
}

/** A miner started in the portal container: fires Mamori's "Crypto miner started". */
export function minerEvent(overrides: Partial<Event> = {}): Event {
  return execEvent(['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333'], overrides);
}

/** An ordinary program started in the portal container: fires nothing. */
export function harmlessEvent(overrides: Partial<Event> = {}): Event {
  return execEvent(['/usr/bin/ls', '-l', '/srv'], overrides);
}

/** What differs between the test's network_connect events. */
export interface ConnectOptions {
  port: number;
  /** @default '10.0.0.7' */
  remote?: string;
  /** @default '10.0.0.21' */
  local?: string;
  /** @default 'L4_PROTOCOL_TCP' */
  protocol?: 'L4_PROTOCOL_TCP' | 'L4_PROTOCOL_UDP' | 'L4_PROTOCOL_UNSPECIFIED';
  /** Event time, µs. @default now */
  micros?: number;
  /** @default 'city-a' */
  tenant?: string;
  /** Container id; '' for a process on the host. @default the portal's */
  container?: string;
}

/** A connect from the portal container (or the host) to `remote:port`, as ingest stamps it. */
export function connectEvent(options: ConnectOptions): Event {
  counter++;
  const now = options.micros ?? Date.now() * 1000;
  const container = options.container ?? PORTAL!.container_id!;
  return {
    id: `evt-${process.pid}-${counter}`,
    tenant_id: options.tenant ?? 'city-a',
    agent_id: 'node-1',
    observed_unix_micros: now,
    received_unix_micros: now + 1000,
    host: { hostname: 'node-1.city-a' },
    workload: container === '' ? null : { ...PORTAL, container_id: container },
    network_connect: {
      process: { pid: 7000, name: 'nmap', exe: '/usr/bin/nmap', args: ['nmap', '10.0.0.7'] },
      connection: {
        protocol: options.protocol ?? 'L4_PROTOCOL_TCP',
        local_address: options.local ?? '10.0.0.21',
        local_port: 40000 + counter,
        remote_address: options.remote ?? '10.0.0.7',
        remote_port: options.port,
      },
    },
  };
}

/** Produces network_connect events as ingest does (with their kind header). */
export async function produceConnects(bus: Bus, topic: string, events: Event[]): Promise<void> {
  await bus.produce(
    topic,
    events.map((event) => ({
      key: Buffer.from(`${event.tenant_id}/${event.agent_id}`),
      value: codec.encode(event),
      headers: { [EventHeaders.kind]: 'network_connect' },
    })),
  );
}

/** The payload kind of an event, as ingest names it in the kind header. */
function kindOf(event: Event): string | undefined {
  return EVENT_KINDS.find((kind) => event[kind] !== undefined && event[kind] !== null);
}

/** Produces events as ingest does: protobuf keyed by `<tenant>/<agent>`, with the kind header. */
export async function produceEvents(bus: Bus, topic: string, events: Event[]): Promise<void> {
  await bus.produce(
    topic,
    events.map((event) => {
      const kind = kindOf(event);
      const headers: Record<string, string> = {};
      if (kind !== undefined) headers[EventHeaders.kind] = kind;
      return {
        key: Buffer.from(`${event.tenant_id}/${event.agent_id}`),
        value: codec.encode(event),
        headers,
      };
    }),
  );
}

/** What a WAAS verdict says about a request, as the defender labels the event. */
export interface WebVerdict {
  action: 'allow' | 'alert' | 'block';
  /** True when the proxy refused the request. @default false */
  enforced?: boolean;
  score?: string;
  categories?: string;
  locations?: string;
  reason?: string;
  policy?: string;
  sampled?: boolean;
}

/**
 * A web request to the portal that the defender's WAAS proxy inspected, with its verdict in the
 * labels, as ingest would have stamped it.
 */
export function webRequestEvent(verdict: WebVerdict, url = "/search?q=1'%20or%20'1'='1"): Event {
  counter++;
  const now = Date.now() * 1000;
  const labels: Record<string, string> = { sensor: 'waas', 'waas.action': verdict.action };
  if (verdict.enforced === true) labels['waas.enforced'] = 'true';
  if (verdict.sampled === true) labels['waas.sampled'] = 'true';
  for (const key of ['score', 'categories', 'locations', 'reason', 'policy'] as const) {
    const value = verdict[key];
    if (value !== undefined) labels[`waas.${key}`] = value;
  }
  return {
    id: `evt-${process.pid}-${counter}`,
    tenant_id: 'city-a',
    agent_id: 'node-1',
    observed_unix_micros: now,
    received_unix_micros: now + 1000,
    host: { hostname: 'node-1.city-a' },
    workload: PORTAL,
    labels,
    http_request: {
      request_id: `req-${counter}`,
      method: 'GET',
      url,
      headers: [{ name: 'User-Agent', value: 'Mozilla/5.0' }],
      client_address: '203.0.113.9',
      client_port: 51234,
      server_name: 'portal.example.gov',
      server_port: 443,
      tls: true,
    },
  };
}

/** Decodes an alert record the way the store does. */
export function decodeAlert(bytes: Buffer): Alert__Output {
  return decodeMessage<Alert__Output>('mamori.v1.Alert', bytes);
}

/** Every record of a topic, across partitions, with its key and decoded alert. */
export async function readAlerts(
  bus: Bus,
  topic: string,
): Promise<{ key: string; alert: Alert__Output }[]> {
  const groupId = unique('reader');
  const consumer = bus.consumer({ groupId, topics: [topic] });
  const offsets = await bus.offsets(topic);
  const total = offsets.reduce((sum, { high, low }) => sum + high - low, 0);
  const seen: { key: string; alert: Alert__Output }[] = [];
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  if (total === 0) done();
  await consumer.run((batch) => {
    for (const record of batch.records) {
      seen.push({ key: record.key?.toString() ?? '', alert: decodeAlert(record.value) });
    }
    if (seen.length >= total) done();
    return Promise.resolve();
  });
  await all;
  await consumer.close();
  return seen;
}

/** A fresh name (topic, group) so that tests never meet. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The sum of a group's committed offsets on a topic: records it has handled. */
export async function committedCount(bus: Bus, groupId: string, topic: string): Promise<number> {
  const offsets = await bus.committed(groupId, topic);
  return offsets.reduce((sum, { offset }) => sum + offset, 0);
}
