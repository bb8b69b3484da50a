import type { AuditRecord } from '@mamori/warehouse';
import { createHash } from 'node:crypto';
import type { Event__Output } from '@mamori/proto';
import { execEvent, fileEvent, SECOND, T0 } from '@mamori/warehouse/testing';
import type { LightMyRequestResponse } from 'fastify';
import { createSilentLogger } from '@mamori/common';
import { buildApp, type ApiApp, type ApiDeps } from '../../src/app.js';
import { createTokenRegistry, type Role } from '../../src/auth/tokens.js';
import type { ApiWarehouse } from '../../src/graphql/resolvers.js';

export { SECOND, T0 };

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
  const base = {
    tenant: options.tenant,
    ...(options.at === undefined ? {} : { at: options.at }),
    ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    ...(options.namespace === undefined ? {} : { workload: { namespace: options.namespace } }),
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.path === undefined
    ? execEvent({ ...base, ...(options.args === undefined ? {} : { args: options.args }) })
    : fileEvent({ ...base, path: options.path });
}

/** The actor of a token without a name: `token:` and 12 hex digits of its SHA-256. */
export function tokenActor(bearer: string): string {
  return `token:${createHash('sha256').update(bearer).digest('hex').slice(0, 12)}`;
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
  // Analysts' tokens have a name (`analyst@<tenant>`); admins' and viewers' do not.
  const tokens = createTokenRegistry(
    tenants.flatMap((tenant) =>
      roles.map((role) => ({
        token: token(tenant, role),
        tenant,
        role,
        ...(role === 'analyst' ? { name: `analyst@${tenant}` } : {}),
      })),
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
        maxAdminBodyBytes: 4 << 20,
        maxPolicySetBytes: 64 << 20,
        queryTimeoutMs: 5000,
        ...overrides.limits,
      },
    },
    warehouse,
    ping: overrides.ping ?? (() => Promise.resolve(true)),
    logger: overrides.logger ?? createSilentLogger(),
    ...(overrides.colocated ? { colocated: overrides.colocated } : {}),
    ...(overrides.bus ? { bus: overrides.bus } : {}),
    ...(overrides.policiesTopic ? { policiesTopic: overrides.policiesTopic } : {}),
    ...(overrides.tuningTopics ? { tuningTopics: overrides.tuningTopics } : {}),
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

/**
 * A warehouse that only records audit entries, in `audits`: what the policy and tuning
 * resolvers write to it (their data lives on the bus).
 */
export function auditingWarehouse(): {
  warehouse: ApiWarehouse;
  audits: { tenant: string; entry: AuditRecord }[];
} {
  const audits: { tenant: string; entry: AuditRecord }[] = [];
  const warehouse = {
    recordAudit(tenant, entry) {
      audits.push({ tenant, entry });
      return Promise.resolve();
    },
  } as Pick<ApiWarehouse, 'recordAudit'> as ApiWarehouse;
  return { warehouse, audits };
}
