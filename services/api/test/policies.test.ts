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
