/** Events for tests of what stores or serves them: realistic, and different on each call. */
import type { Event__Output } from '@mamori/proto';

let sequence = 0;

const HOUR_MS = 3_600_000;
/**
 * The start of the hour a day ago, in microseconds: recent enough for the events' TTL (older
 * events are dropped as they land) and hour-aligned for the bucket tests.
 */
export const T0 = (Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 24 * HOUR_MS) * 1000;
export const SECOND = 1_000_000;

export interface EventOptions {
  tenant: string;
  id?: string;
  agent?: string;
  at?: number;
  hostname?: string;
  /** null for a host-level event. */
  workload?: Partial<NonNullable<Event__Output['workload']>> | null;
}

function baseEvent(options: EventOptions): Event__Output {
  sequence++;
  return {
    id: options.id ?? `ev-${sequence}`,
    tenant_id: options.tenant,
    agent_id: options.agent ?? 'node-1',
    observed_unix_micros: options.at ?? T0,
    received_unix_micros: (options.at ?? T0) + 1000,
    host: {
      hostname: options.hostname ?? 'node-1.city-a',
      machine_id: 'm-1',
      os: 'linux',
      kernel: '6.1.0',
      addresses: ['10.0.0.1'],
    },
    workload:
      options.workload === null
        ? null
        : {
            container_id: 'c0ffee01',
            container_name: 'portal',
            runtime: 'containerd',
            privileged: false,
            pod_name: 'portal-7d9f',
            pod_uid: 'uid-1',
            namespace: 'citizens',
            image_repository: 'registry.example.gov/city/portal',
            image_tag: '1.4.2',
            image_digest: 'sha256:aaaa',
            pod_labels: { app: 'portal' },
            ...options.workload,
          },
    labels: { sensor: 'ebpf' },
  };
}

function process(
  name: string,
  args: string[],
): NonNullable<NonNullable<Event__Output['process_exec']>['process']> {
  return {
    pid: 4242,
    ppid: 1,
    name,
    exe: `/usr/bin/${name}`,
    args,
    cwd: '/',
    uid: 0,
    gid: 0,
    user: 'root',
    tty: '',
    start_unix_micros: T0,
    ancestors: [],
    login_uid: -1,
    exe_hash: '',
    stdin_type: '',
    stdout_type: '',
    stderr_type: '',
    exe_upper_layer: false,
  };
}

/** A process_exec event. */
export function execEvent(
  options: EventOptions & { name?: string; args?: string[] },
): Event__Output {
  const name = options.name ?? 'curl';
  return {
    ...baseEvent(options),
    payload: 'process_exec',
    process_exec: { process: process(name, options.args ?? [name, 'https://example.gov']) },
  };
}

/** A file_open event. */
export function fileEvent(options: EventOptions & { path: string; name?: string }): Event__Output {
  return {
    ...baseEvent(options),
    payload: 'file_open',
    file_open: {
      process: process(options.name ?? 'cat', [options.name ?? 'cat', options.path]),
      path: options.path,
      flags: 0,
      write: false,
    },
  };
}

/** An http_request event, whose body is bytes. */
export function httpEvent(options: EventOptions & { body: Buffer }): Event__Output {
  return {
    ...baseEvent(options),
    payload: 'http_request',
    http_request: {
      request_id: 'r-1',
      method: 'POST',
      url: '/login',
      http_version: '1.1',
      headers: [{ name: 'host', value: 'portal.example.gov' }],
      body: options.body,
      body_size: options.body.length,
      client_address: '203.0.113.9',
      client_port: 51234,
      server_name: 'portal.example.gov',
      server_port: 443,
      tls: true,
    },
  };
}
