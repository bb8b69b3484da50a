import type { Event__Output } from '@mamori/proto';
import type { LightMyRequestResponse } from 'fastify';
import { createSilentLogger } from '@mamori/common';
import { buildApp, type ApiApp, type ApiDeps } from '../../src/app.js';
import { createTokenRegistry, type Role } from '../../src/auth/tokens.js';
import type { ApiWarehouse } from '../../src/graphql/resolvers.js';

const HOUR_MS = 3_600_000;
/** The start of the hour a day ago, in microseconds: inside the events' TTL, hour-aligned. */
export const T0 = (Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 24 * HOUR_MS) * 1000;
export const SECOND = 1_000_000;

let sequence = 0;

export interface EventOptions {
  tenant: string;
  at?: number;
  hostname?: string;
  namespace?: string;
  name?: string;
  args?: string[];
  /** A file_open event of this path instead of a process_exec. */
  path?: string;
}

/** A process_exec (or, with `path`, a file_open) event. */
export function testEvent(options: EventOptions): Event__Output {
  sequence++;
  const name = options.name ?? 'curl';
  const process = {
    pid: 4242,
    ppid: 1,
    name,
    exe: `/usr/bin/${name}`,
    args: options.args ?? [name, 'https://example.gov'],
    cwd: '/',
    uid: 0,
    gid: 0,
    user: 'root',
    tty: '',
    start_unix_micros: T0,
    ancestors: [],
    login_uid: -1,
    exe_hash: '',
  };
  const at = options.at ?? T0;
  return {
    id: `ev-${sequence}`,
    tenant_id: options.tenant,
    agent_id: 'node-1',
    observed_unix_micros: at,
    received_unix_micros: at + 1000,
    host: {
      hostname: options.hostname ?? 'node-1.city-a',
      machine_id: 'm-1',
      os: 'linux',
      kernel: '6.1.0',
      addresses: ['10.0.0.1'],
    },
    workload: {
      container_id: 'c0ffee01',
      container_name: 'portal',
      runtime: 'containerd',
      privileged: false,
      pod_name: 'portal-7d9f',
      pod_uid: 'uid-1',
      namespace: options.namespace ?? 'citizens',
      image_repository: 'registry.example.gov/city/portal',
      image_tag: '1.4.2',
      image_digest: 'sha256:aaaa',
      pod_labels: { app: 'portal' },
    },
    labels: { sensor: 'ebpf' },
    ...(options.path === undefined
      ? { payload: 'process_exec', process_exec: { process } }
      : {
          payload: 'file_open',
          file_open: { process, path: options.path, flags: 0, write: false },
        }),
  };
}

/** A token of 32 characters per tenant and role, so that tests read like `token(a, 'viewer')`. */
export function token(tenant: string, role: Role): string {
  return `tok-${role}-${tenant}`.padEnd(32, '0');
}

/** An API app over `warehouse` that knows the tokens of every role of `tenants`. */
export function testApp(
  warehouse: ApiWarehouse,
  tenants: readonly string[],
  overrides: Partial<Omit<ApiDeps, 'config' | 'warehouse'>> & {
    limits?: Partial<ApiDeps['config']['limits']>;
  } = {},
): ApiApp {
  const roles: Role[] = ['admin', 'analyst', 'viewer'];
  const tokens = createTokenRegistry(
    tenants.flatMap((tenant) =>
      roles.map((role) => ({ token: token(tenant, role), tenant, role })),
    ),
    'test',
  );
  return buildApp({
    config: {
      host: '127.0.0.1',
      port: 0,
      tokens,
      connectedWithinSeconds: 300,
      limits: {
        maxDepth: 10,
        maxComplexity: 50_000,
        maxPageSize: 500,
        maxBodyBytes: 64 * 1024,
        queryTimeoutMs: 5000,
        ...overrides.limits,
      },
    },
    warehouse,
    ping: overrides.ping ?? (() => Promise.resolve(true)),
    logger: overrides.logger ?? createSilentLogger(),
    ...(overrides.colocated ? { colocated: overrides.colocated } : {}),
  });
}

export interface GraphQLResult {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  response: LightMyRequestResponse;
}

/** POSTs a GraphQL request with `bearer` through inject(). */
export async function gql(
  app: ApiApp,
  bearer: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResult> {
  const response = await app.server.inject({
    method: 'POST',
    url: '/graphql',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    payload: JSON.stringify({ query, variables }),
  });
  return { status: response.statusCode, body: response.json(), response };
}
