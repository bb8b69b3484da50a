import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { protoType, Topics, type Policy__Output } from '@mamori/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiApp } from '../src/app.js';
import type { AuditRecord } from '@mamori/warehouse';
import type { ApiWarehouse } from '../src/graphql/resolvers.js';
import { auditingWarehouse, gql, testApp, token, tokenActor } from './support/fixtures.js';

const TENANT = 'city-a';
const OTHER = 'city-b';
/** Policies and tuning never reach the warehouse; their audit entries do. */
let warehouse: ApiWarehouse;
let audits: { tenant: string; entry: AuditRecord }[];

const UPSERT = `mutation ($input: PolicyInput!) {
  upsertPolicy(input: $input) { id name mode updatedAt }
}`;
const LIST = `{ policies { id name mode images namespaces podLabels { key value } allowedProcesses
  deniedProcesses protectedPaths allowedDestinations { cidr port protocol } rules updatedAt } }`;
const DELETE = 'mutation ($id: ID!) { deletePolicy(id: $id) { id deleted } }';

const input = {
  id: 'no-shells',
  name: 'No shells in payments',
  mode: 'PREVENT',
  images: ['registry.example.gov/city/*'],
  namespaces: ['payments'],
  podLabels: [{ key: 'app', value: 'billing' }],
  deniedProcesses: ['sh', '/bin/bash'],
  protectedPaths: ['/etc'],
  allowedDestinations: [{ cidr: '10.0.0.0/8', port: 443, protocol: 'TCP' }],
};

let dir: string;
let bus: EmbeddedBus;
let app: ApiApp;

beforeEach(async () => {
  ({ warehouse, audits } = auditingWarehouse());
  dir = mkdtempSync(join(tmpdir(), 'mamori-api-policies-'));
  bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  app = testApp(warehouse, [TENANT, OTHER], { bus });
});

afterEach(async () => {
  await app.stop();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The records on the policies topic, decoded, with their keys. */
async function records(): Promise<{ key: string; policy: Policy__Output }[]> {
  const type = protoType('mamori.v1.Policy');
  const seen: { key: string; policy: Policy__Output }[] = [];
  const [end] = await bus.offsets(Topics.policies);
  const consumer = bus.consumer({ groupId: 'test-reader', topics: [Topics.policies] });
  await new Promise<void>((resolve) => {
    void consumer.run((batch) => {
      for (const record of batch.records) {
        seen.push({
          key: record.key?.toString('utf8') ?? '',
          policy: type.toObject(type.decode(record.value), {
            longs: Number,
            enums: String,
            defaults: true,
          }) as Policy__Output,
        });
      }
      if (seen.length >= (end?.high ?? 0)) resolve();
      return Promise.resolve();
    });
  });
  await consumer.close();
  return seen;
}

describe('policies', () => {
  it('lists a policy an admin upserted, with every field, stamped with the write time', async () => {
    const before = Date.now() * 1000;
    const written = await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    expect(written.body.errors).toBeUndefined();
    expect(written.body.data?.['upsertPolicy']).toMatchObject({ id: 'no-shells', mode: 'PREVENT' });

    const listed = await gql(app, token(TENANT, 'viewer'), LIST);
    expect(listed.body.errors).toBeUndefined();
    const policies = listed.body.data?.['policies'] as Record<string, unknown>[];
    expect(policies).toEqual([
      {
        ...input,
        allowedProcesses: [],
        rules: '',
        updatedAt: expect.any(String) as unknown,
      },
    ]);
    expect(Date.parse(policies[0]!['updatedAt'] as string) * 1000).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000,
    );

    // On the topic: keyed <tenant>/<id>, the tenant from the token.
    const [record] = await records();
    expect(record?.key).toBe(`${TENANT}/no-shells`);
    expect(record?.policy).toMatchObject({ tenant_id: TENANT, mode: 'POLICY_MODE_PREVENT' });
  });

  it("shows another tenant none of a tenant's policies", async () => {
    await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    const listed = await gql(app, token(OTHER, 'admin'), LIST);
    expect(listed.body).toEqual({ data: { policies: [] } });
    const deleted = await gql(app, token(OTHER, 'admin'), DELETE, { id: 'no-shells' });
    expect(deleted.body).toEqual({ data: { deletePolicy: { id: 'no-shells', deleted: false } } });
    expect(await records()).toHaveLength(1);
  });

  it.each(['viewer', 'analyst'] as const)(
    'refuses upsertPolicy and deletePolicy to an %s with FORBIDDEN, writing nothing',
    async (role) => {
      const upsert = await gql(app, token(TENANT, role), UPSERT, { input });
      expect(upsert.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const deleted = await gql(app, token(TENANT, role), DELETE, { id: 'no-shells' });
      expect(deleted.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect((await bus.offsets(Topics.policies).catch(() => []))[0]?.high ?? 0).toBe(0);
    },
  );

  it('refuses a policy that does not compile with BAD_USER_INPUT listing its problems', async () => {
    const result = await gql(app, token(TENANT, 'admin'), UPSERT, {
      input: {
        ...input,
        protectedPaths: ['etc/passwd'],
        allowedDestinations: [{ cidr: '10.0.0.0/33' }],
      },
    });
    const error = result.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const problems = error?.extensions?.['problems'] as { message: string }[];
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('protected_paths'),
      expect.stringContaining('10.0.0.0/33'),
    ]);
    expect((await gql(app, token(TENANT, 'admin'), LIST)).body).toEqual({
      data: { policies: [] },
    });
  });

  it('refuses an id outside [A-Za-z0-9._:-] naming the field', async () => {
    const result = await gql(app, token(TENANT, 'admin'), UPSERT, {
      input: { ...input, id: 'a/b' },
    });
    expect(result.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });
  });

  it('removes a deleted policy by writing a deleted tombstone', async () => {
    await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    await gql(app, token(TENANT, 'admin'), UPSERT, { input: { ...input, id: 'keep' } });
    const deleted = await gql(app, token(TENANT, 'admin'), DELETE, { id: 'no-shells' });
    expect(deleted.body).toEqual({ data: { deletePolicy: { id: 'no-shells', deleted: true } } });
    const listed = await gql(app, token(TENANT, 'admin'), '{ policies { id } }');
    expect(listed.body).toEqual({ data: { policies: [{ id: 'keep' }] } });
    const last = (await records()).at(-1);
    expect(last?.key).toBe(`${TENANT}/no-shells`);
    expect(last?.policy).toMatchObject({ tenant_id: TENANT, id: 'no-shells', deleted: true });
  });

  it('records each change in the audit trail with the admin, the action and what was set', async () => {
    await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    await gql(app, token(TENANT, 'admin'), UPSERT, { input: { ...input, name: 'renamed' } });
    await gql(app, token(TENANT, 'admin'), DELETE, { id: 'no-shells' });
    await gql(app, token(OTHER, 'admin'), DELETE, { id: 'no-shells' });
    expect(
      audits.map(({ tenant, entry }) => [tenant, entry.targetType, entry.targetId, entry.action]),
    ).toEqual([
      [TENANT, 'policy', 'no-shells', 'create'],
      [TENANT, 'policy', 'no-shells', 'update'],
      [TENANT, 'policy', 'no-shells', 'delete'],
    ]);
    expect(audits[0]!.entry.actor).toBe(tokenActor(token(TENANT, 'admin')));
    expect(JSON.parse(audits[1]!.entry.note ?? '')).toMatchObject({
      name: 'renamed',
      mode: 'POLICY_MODE_PREVENT',
    });
  });

  it('writes no policy when its audit entry cannot be recorded', async () => {
    const failing = testApp(
      { recordAudit: () => Promise.reject(new Error('ClickHouse is down')) } as Pick<
        ApiWarehouse,
        'recordAudit'
      > as ApiWarehouse,
      [TENANT],
      { bus, logger: createSilentLogger() },
    );
    try {
      const result = await gql(failing, token(TENANT, 'admin'), UPSERT, { input });
      expect(result.body.errors?.[0]?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
      expect((await bus.offsets(Topics.policies))[0]?.high).toBe(0);
    } finally {
      await failing.stop();
    }
  });

  it('sees a policy another API replica wrote on the same bus', async () => {
    const other = testApp(warehouse, [TENANT], { bus });
    try {
      // This replica starts following first, so the write arrives while it follows.
      expect((await gql(app, token(TENANT, 'admin'), LIST)).body.errors).toBeUndefined();
      await gql(other, token(TENANT, 'admin'), UPSERT, { input });
      const listed = await gql(app, token(TENANT, 'admin'), '{ policies { id } }');
      expect(listed.body).toEqual({ data: { policies: [{ id: 'no-shells' }] } });
    } finally {
      await other.stop();
    }
  });
});

describe('policies without a bus', () => {
  it('answer POLICIES_UNAVAILABLE', async () => {
    const alone = testApp(warehouse, [TENANT], { logger: createSilentLogger() });
    const listed = await gql(alone, token(TENANT, 'admin'), '{ policies { id } }');
    expect(listed.body.errors?.[0]?.extensions?.['code']).toBe('POLICIES_UNAVAILABLE');
    const upsert = await gql(alone, token(TENANT, 'admin'), UPSERT, { input });
    expect(upsert.body.errors?.[0]?.extensions?.['code']).toBe('POLICIES_UNAVAILABLE');
  });
});

describe('web application policies', () => {
  const WEB = `webApplication { hosts pathPrefixes paranoia alertThreshold blockThreshold
    exceptions { location locationPrefix pathPrefix categories } openapi apiMode
    rateLimits { burstRequests burstSeconds averageRequests averageSeconds banSeconds
      sessionCookies sessionHeaders }
    botMode bodyLimitBytes sampleClean }`;
  const LIST_WEB = `{ policies { id mode ${WEB} } }`;
  const UPSERT_WEB = `mutation ($input: PolicyInput!) { upsertPolicy(input: $input) { id ${WEB} } }`;
  const OPENAPI = JSON.stringify({
    openapi: '3.0.3',
    paths: {
      '/pets': {
        get: { parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer' } }] },
      },
    },
  });
  /** Every field given, none of them a default. */
  const waf = {
    hosts: ['Shop.Example.GOV', '*.city.example.gov'],
    pathPrefixes: ['/api', '/shop'],
    paranoia: 3,
    alertThreshold: 2.5,
    blockThreshold: 8,
    exceptions: [
      { location: 'query.token', locationPrefix: '', pathPrefix: '', categories: [] },
      {
        location: '',
        locationPrefix: 'body.content.',
        pathPrefix: '/admin/editor/',
        categories: ['xss', 'sqli'],
      },
    ],
    openapi: OPENAPI,
    apiMode: 'BLOCK',
    rateLimits: {
      burstRequests: 20,
      burstSeconds: 1,
      averageRequests: 1000,
      averageSeconds: 600,
      banSeconds: 300,
      sessionCookies: ['sid'],
      sessionHeaders: ['x-api-key'],
    },
    botMode: 'PREVENT',
    bodyLimitBytes: 65_536,
    sampleClean: 0.5,
  };
  /** What upsertPolicy fills in: paranoia 1, thresholds 3 and 5, 128 KiB, 1 %, DETECT. */
  const defaults = {
    hosts: [],
    pathPrefixes: [],
    paranoia: 1,
    alertThreshold: 3,
    blockThreshold: 5,
    exceptions: [],
    openapi: '',
    apiMode: 'DETECT',
    rateLimits: null,
    botMode: 'DETECT',
    bodyLimitBytes: 131_072,
    sampleClean: 0.01,
  };
  /** createRateLimiter's defaults: 50 in 2 s, 600 in 300 s, banned 60 s. */
  const rateDefaults = {
    burstRequests: 50,
    burstSeconds: 2,
    averageRequests: 600,
    averageSeconds: 300,
    banSeconds: 60,
    sessionCookies: ['session'],
    sessionHeaders: ['authorization'],
  };

  async function upsertWeb(webApplication: Record<string, unknown>, tenant = TENANT) {
    return gql(app, token(tenant, 'admin'), UPSERT_WEB, {
      input: { id: 'shop', name: 'Shop', mode: 'PREVENT', webApplication },
    });
  }

  it('lists a web application policy with every field as written, hosts in lower case', async () => {
    const written = await upsertWeb(waf);
    expect(written.body.errors).toBeUndefined();
    const expected = { ...waf, hosts: ['shop.example.gov', '*.city.example.gov'] };
    expect(written.body.data?.['upsertPolicy']).toEqual({ id: 'shop', webApplication: expected });
    const listed = await gql(app, token(TENANT, 'viewer'), LIST_WEB);
    expect(listed.body).toEqual({
      data: { policies: [{ id: 'shop', mode: 'PREVENT', webApplication: expected }] },
    });

    // On the topic: every field explicit, as the agents read it.
    const [record] = await records();
    expect(record?.policy.web_application).toEqual({
      hosts: ['shop.example.gov', '*.city.example.gov'],
      path_prefixes: ['/api', '/shop'],
      paranoia: 3,
      alert_threshold: 2.5,
      block_threshold: 8,
      exceptions: [
        { location: 'query.token', location_prefix: '', path_prefix: '', categories: [] },
        {
          location: '',
          location_prefix: 'body.content.',
          path_prefix: '/admin/editor/',
          categories: ['xss', 'sqli'],
        },
      ],
      openapi: OPENAPI,
      api_mode: 'POLICY_MODE_BLOCK',
      rate_limits: {
        burst_requests: 20,
        burst_seconds: 1,
        average_requests: 1000,
        average_seconds: 600,
        ban_seconds: 300,
        session_cookies: ['sid'],
        session_headers: ['x-api-key'],
      },
      bot_mode: 'POLICY_MODE_PREVENT',
      body_limit_bytes: 65_536,
      sample_clean: 0.5,
    });
  });

  it('fills in the defaults of fields left out, rate limits only when given', async () => {
    expect((await upsertWeb({})).body.data?.['upsertPolicy']).toEqual({
      id: 'shop',
      webApplication: defaults,
    });
    const withLimits = await upsertWeb({ rateLimits: { burstRequests: 10 } });
    expect(withLimits.body.data?.['upsertPolicy']).toEqual({
      id: 'shop',
      webApplication: { ...defaults, rateLimits: { ...rateDefaults, burstRequests: 10 } },
    });
    const listed = await gql(app, token(TENANT, 'admin'), LIST_WEB);
    expect(listed.body.data?.['policies']).toEqual([
      {
        id: 'shop',
        mode: 'PREVENT',
        webApplication: { ...defaults, rateLimits: { ...rateDefaults, burstRequests: 10 } },
      },
    ]);
    const record = (await records()).at(-1);
    expect(record?.policy.web_application).toMatchObject({
      paranoia: 1,
      alert_threshold: 3,
      block_threshold: 5,
      api_mode: 'POLICY_MODE_DETECT',
      bot_mode: 'POLICY_MODE_DETECT',
      body_limit_bytes: 131_072,
      sample_clean: 0.01,
    });
  });

  it('fills in the same defaults for fields given as null', async () => {
    const nulls = Object.fromEntries(Object.keys(defaults).map((key) => [key, null]));
    expect((await upsertWeb(nulls)).body.data?.['upsertPolicy']).toEqual({
      id: 'shop',
      webApplication: defaults,
    });
    const limits = Object.fromEntries(Object.keys(rateDefaults).map((key) => [key, null]));
    expect((await upsertWeb({ rateLimits: limits })).body.data?.['upsertPolicy']).toEqual({
      id: 'shop',
      webApplication: { ...defaults, rateLimits: rateDefaults },
    });
  });

  it('accepts a policy whose only part is its web application part, and one without any part', async () => {
    const only = await gql(app, token(TENANT, 'admin'), UPSERT_WEB, {
      input: { id: 'waf-only', name: 'WAF only', webApplication: { hosts: ['shop.example.gov'] } },
    });
    expect(only.body.errors).toBeUndefined();
    const none = await gql(app, token(TENANT, 'admin'), UPSERT_WEB, {
      input: { id: 'empty', name: 'Nothing yet' },
    });
    expect(none.body).toEqual({ data: { upsertPolicy: { id: 'empty', webApplication: null } } });
    const listed = await gql(app, token(TENANT, 'admin'), LIST_WEB);
    expect(listed.body.data?.['policies']).toEqual([
      { id: 'empty', mode: 'DETECT', webApplication: null },
      {
        id: 'waf-only',
        mode: 'DETECT',
        webApplication: { ...defaults, hosts: ['shop.example.gov'] },
      },
    ]);
    expect((await records()).at(-1)?.policy.web_application).toBeNull();
  });

  it.each([
    ['an empty host', { hosts: [''] }, 'webApplication.hosts[0]'],
    [
      'a host with a port',
      { hosts: ['a.example.gov', 'b.example.gov:443'] },
      'webApplication.hosts[1]',
    ],
    ['a host of 254 characters', { hosts: ['a'.repeat(254)] }, 'webApplication.hosts[0]'],
    [
      'a reversed range in a host glob',
      { hosts: ['shop[z-a].example.gov'] },
      'webApplication.hosts[0]',
    ],
    [
      'a reversed range in a path prefix glob',
      { pathPrefixes: ['/shop/[z-a]'] },
      'webApplication.pathPrefixes[0]',
    ],
    ['a relative path prefix', { pathPrefixes: ['/api', 'api'] }, 'webApplication.pathPrefixes[1]'],
    ['paranoia 0', { paranoia: 0 }, 'webApplication.paranoia'],
    ['paranoia 5', { paranoia: 5 }, 'webApplication.paranoia'],
    ['an alert threshold of 0', { alertThreshold: 0 }, 'webApplication.alertThreshold'],
    [
      'a block threshold below the alert threshold',
      { alertThreshold: 6, blockThreshold: 5 },
      'webApplication.blockThreshold',
    ],
    [
      'an exception of no location and no path',
      { exceptions: [{ location: 'path' }, { categories: ['xss'] }] },
      'webApplication.exceptions[1]',
    ],
    [
      'an exception of an unknown category',
      {
        exceptions: [
          { location: 'query.a' },
          { location: 'query.b' },
          { location: 'query.q', categories: ['xss', 'sql-injection'] },
        ],
      },
      'webApplication.exceptions[2].categories',
    ],
    [
      'an exception path prefix without /',
      { exceptions: [{ pathPrefix: 'admin' }] },
      'webApplication.exceptions[0].pathPrefix',
    ],
    [
      'a burst of 0 requests',
      { rateLimits: { burstRequests: 0 } },
      'webApplication.rateLimits.burstRequests',
    ],
    ['a negative ban', { rateLimits: { banSeconds: -1 } }, 'webApplication.rateLimits.banSeconds'],
    [
      'an average window shorter than the burst window',
      { rateLimits: { burstSeconds: 60, averageSeconds: 30 } },
      'webApplication.rateLimits.averageSeconds',
    ],
    [
      'an empty session cookie name',
      { rateLimits: { sessionCookies: [''] } },
      'webApplication.rateLimits.sessionCookies[0]',
    ],
    ['a negative body limit', { bodyLimitBytes: -1 }, 'webApplication.bodyLimitBytes'],
    [
      'a body limit over 16 MiB',
      { bodyLimitBytes: 16 * 1024 * 1024 + 1 },
      'webApplication.bodyLimitBytes',
    ],
    ['a sample share over 1', { sampleClean: 1.5 }, 'webApplication.sampleClean'],
    ['a negative sample share', { sampleClean: -0.1 }, 'webApplication.sampleClean'],
  ])('refuses %s with BAD_USER_INPUT naming the field', async (_, webApplication, field) => {
    const result = await upsertWeb(webApplication);
    const error = result.body.errors?.[0];
    expect(error?.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(error?.message.startsWith(`${field}: `)).toBe(true);
    expect((await bus.offsets(Topics.policies).catch(() => []))[0]?.high ?? 0).toBe(0);
  });

  it('refuses an OpenAPI document that does not compile, naming its JSON path', async () => {
    const broken = JSON.stringify({
      openapi: '3.0.3',
      paths: { '/pets': { get: { parameters: [{ name: 'limit', in: 'body' }] } } },
    });
    const result = await upsertWeb({ openapi: broken });
    expect(result.body.errors?.[0]).toMatchObject({
      message:
        'webApplication.openapi: paths["/pets"].get.parameters[0].in: must be path, query, header or cookie',
      extensions: { code: 'BAD_USER_INPUT', field: 'webApplication.openapi' },
    });
    const notYaml = await upsertWeb({ openapi: '{ not json' });
    expect(notYaml.body.errors?.[0]?.message).toMatch(
      /^webApplication\.openapi: \(document\): not JSON or YAML/,
    );
    const swagger = await upsertWeb({ openapi: 'swagger: "2.0"\npaths: {}\n' });
    expect(swagger.body.errors?.[0]?.message).toMatch(/^webApplication\.openapi: openapi: must be/);
    expect((await bus.offsets(Topics.policies).catch(() => []))[0]?.high ?? 0).toBe(0);
  });

  it('accepts an OpenAPI document with parts the agents skip (a pattern RE2 cannot run)', async () => {
    const yaml = [
      'openapi: 3.0.3',
      'paths:',
      '  /pets:',
      '    get:',
      '      parameters:',
      '        - { name: q, in: query, schema: { type: string, pattern: "(?=x)y" } }',
      '',
    ].join('\n');
    const result = await upsertWeb({ openapi: yaml });
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['upsertPolicy']).toMatchObject({ webApplication: { openapi: yaml } });
  });

  it('accepts an OpenAPI document of 1 MiB from an admin with the default limits, and refuses one a byte longer', async () => {
    const large = testApp(warehouse, [TENANT], { bus });
    /** A valid document of `bytes` bytes, padded with a description. */
    const documentOf = (bytes: number) => {
      const empty = JSON.stringify({ openapi: '3.0.3', info: { description: '' }, paths: {} });
      return JSON.stringify({
        openapi: '3.0.3',
        info: { description: 'x'.repeat(bytes - empty.length) },
        paths: {},
      });
    };
    const upsert = (openapi: string) =>
      gql(large, token(TENANT, 'admin'), UPSERT_WEB, {
        input: { id: 'shop', name: 'Shop', webApplication: { openapi } },
      });
    try {
      const over = await upsert(documentOf((1 << 20) + 1));
      expect(over.body.errors?.[0]?.extensions).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'webApplication.openapi',
      });
      expect((await upsert(documentOf(1 << 20))).body.errors).toBeUndefined();
    } finally {
      await large.stop();
    }
  });

  it("refuses a policy that would make the tenant's set larger than agents are sent at once", async () => {
    const small = testApp(warehouse, [TENANT], { bus, limits: { maxPolicySetBytes: 200_000 } });
    const upsert = (id: string, kib: number) =>
      gql(small, token(TENANT, 'admin'), UPSERT_WEB, {
        input: {
          id,
          name: id,
          webApplication: {
            openapi: JSON.stringify({
              openapi: '3.0.3',
              info: { description: 'x'.repeat(kib * 1024) },
              paths: {},
            }),
          },
        },
      });
    try {
      expect((await upsert('app-1', 90)).body.errors).toBeUndefined();
      expect((await upsert('app-2', 90)).body.errors).toBeUndefined();
      const over = await upsert('app-3', 90);
      expect(over.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input' });
      expect(over.body.errors?.[0]?.message).toMatch(
        /^upsertPolicy: the tenant's policies would take \d+ bytes, more than the 200000 sent to agents at once$/,
      );
      // Replacing a policy counts it once: a smaller app-2 fits, and makes room for app-3.
      expect((await upsert('app-2', 90)).body.errors).toBeUndefined();
      expect((await upsert('app-2', 10)).body.errors).toBeUndefined();
      expect((await upsert('app-3', 90)).body.errors).toBeUndefined();
    } finally {
      await small.stop();
    }
  });

  it("keeps each tenant's web application policy to itself", async () => {
    await upsertWeb(waf);
    await upsertWeb({ hosts: ['portal.city-b.example.gov'] }, OTHER);
    const mine = await gql(app, token(TENANT, 'viewer'), LIST_WEB);
    expect(mine.body.data?.['policies']).toEqual([
      {
        id: 'shop',
        mode: 'PREVENT',
        webApplication: { ...waf, hosts: ['shop.example.gov', '*.city.example.gov'] },
      },
    ]);
    const theirs = await gql(app, token(OTHER, 'viewer'), LIST_WEB);
    expect(theirs.body.data?.['policies']).toEqual([
      {
        id: 'shop',
        mode: 'PREVENT',
        webApplication: { ...defaults, hosts: ['portal.city-b.example.gov'] },
      },
    ]);
    expect((await records()).map((r) => r.key)).toEqual([`${TENANT}/shop`, `${OTHER}/shop`]);
  });
});
