import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { protoType, Topics, type RuleCatalog, type RuleTuning__Output } from '@mamori/proto';
import type { AuditRecord } from '@mamori/warehouse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiApp } from '../src/app.js';
import type { ApiWarehouse } from '../src/graphql/resolvers.js';
import { auditingWarehouse, gql, testApp, token, tokenActor } from './support/fixtures.js';

const TENANT = 'city-a';
const OTHER = 'city-b';
const MINER = 'mamori:Crypto miner started';
const SHADOW = 'falco:Read sensitive file untrusted';

/** What a detector group publishes when it loads its rules. */
const CATALOG: RuleCatalog = {
  group_id: 'mamori-detector',
  loaded_unix_micros: 1,
  rules: [
    {
      id: MINER,
      name: 'Crypto miner started',
      source: 'mamori',
      priority: 'CRITICAL',
      severity: 'SEVERITY_CRITICAL',
      tags: ['T1496', 'mitre_impact'],
      kinds: ['process_exec'],
      file: '/opt/mamori/mamori_rules.yaml',
      line: 82,
    },
    {
      id: SHADOW,
      name: 'Read sensitive file untrusted',
      source: 'falco',
      priority: 'WARNING',
      severity: 'SEVERITY_MEDIUM',
      tags: ['T1555'],
      kinds: ['file_open'],
      file: '/etc/falco/falco_rules.yaml',
      line: 400,
    },
    {
      id: 'mamori:Port scan',
      name: 'Port scan',
      source: 'mamori',
      priority: 'high',
      severity: 'SEVERITY_HIGH',
      tags: ['T1046'],
      kinds: ['network_connect'],
      stateful: true,
    },
  ],
  skipped: [
    { rule: 'Outbound to named server', reason: 'fd.sip.name: no DNS names', field: 'fd.sip.name' },
  ],
};

const UPSERT = `mutation ($input: RuleExceptionInput!) {
  upsertRuleException(input: $input) { id rule name fields comps values comment updatedBy updatedAt }
}`;
const DELETE = 'mutation ($id: ID!) { deleteRuleException(id: $id) { id deleted } }';
const ENABLE = `mutation ($rule: ID!, $enabled: Boolean!, $note: String) {
  setRuleEnabled(rule: $rule, enabled: $enabled, note: $note) { id enabled }
}`;

const input = {
  id: 'portal-load-test',
  rule: MINER,
  name: 'The portal load test mines on purpose',
  fields: ['container.image.repository', 'proc.name'],
  comps: ['=', 'in'],
  values: [['registry.example.gov/city/portal', 'xmrig']],
  comment: 'ticket OPS-1234',
};

let dir: string;
let bus: EmbeddedBus;
let app: ApiApp;
/** Policies and tuning never reach the warehouse; their audit entries do. */
let warehouse: ApiWarehouse;
let audits: { tenant: string; entry: AuditRecord }[];

async function publishCatalog(catalog: RuleCatalog): Promise<void> {
  const type = protoType('mamori.v1.RuleCatalog');
  await bus.ensureTopics([{ topic: Topics.ruleCatalog, cleanupPolicy: 'compact' }]);
  await bus.produce(Topics.ruleCatalog, [
    {
      key: Buffer.from(catalog.group_id ?? ''),
      value: Buffer.from(type.encode(type.fromObject(catalog)).finish()),
    },
  ]);
}

/** The records on the tuning topic so far, decoded, with their keys. */
async function tuningRecords(): Promise<{ key: string; tuning: RuleTuning__Output }[]> {
  const type = protoType('mamori.v1.RuleTuning');
  const [end] = await bus.offsets(Topics.ruleTuning).catch(() => []);
  const seen: { key: string; tuning: RuleTuning__Output }[] = [];
  if ((end?.high ?? 0) === 0) return seen;
  const consumer = bus.consumer({
    groupId: `reader-${Math.random()}`,
    topics: [Topics.ruleTuning],
  });
  await new Promise<void>((resolve) => {
    void consumer.run((batch) => {
      for (const record of batch.records) {
        seen.push({
          key: record.key?.toString('utf8') ?? '',
          tuning: type.toObject(type.decode(record.value), {
            longs: Number,
            enums: String,
            defaults: true,
            oneofs: true,
          }) as RuleTuning__Output,
        });
      }
      if (seen.length >= (end?.high ?? 0)) resolve();
      return Promise.resolve();
    });
  });
  await consumer.close();
  return seen;
}

beforeEach(async () => {
  ({ warehouse, audits } = auditingWarehouse());
  dir = mkdtempSync(join(tmpdir(), 'mamori-api-tuning-'));
  bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  app = testApp(warehouse, [TENANT, OTHER], { bus });
  await publishCatalog(CATALOG);
});

afterEach(async () => {
  await app.stop();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('rules', () => {
  it('lists the rules the detectors publish, enabled, with the groups that run them', async () => {
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ rules { id source severity kinds stateful enabled detectors file line exceptions { id } } }',
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.['rules']).toEqual([
      {
        id: SHADOW,
        source: 'falco',
        severity: 'MEDIUM',
        kinds: ['FILE_OPEN'],
        stateful: false,
        enabled: true,
        detectors: ['mamori-detector'],
        file: '/etc/falco/falco_rules.yaml',
        line: 400,
        exceptions: [],
      },
      {
        id: MINER,
        source: 'mamori',
        severity: 'CRITICAL',
        kinds: ['PROCESS_EXEC'],
        stateful: false,
        enabled: true,
        detectors: ['mamori-detector'],
        file: '/opt/mamori/mamori_rules.yaml',
        line: 82,
        exceptions: [],
      },
      {
        id: 'mamori:Port scan',
        source: 'mamori',
        severity: 'HIGH',
        kinds: ['NETWORK_CONNECT'],
        stateful: true,
        enabled: true,
        detectors: ['mamori-detector'],
        file: null,
        line: null,
        exceptions: [],
      },
    ]);
    const skipped = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ skippedRules { detector rule field } }',
    );
    expect(skipped.body.data?.['skippedRules']).toEqual([
      { detector: 'mamori-detector', rule: 'Outbound to named server', field: 'fd.sip.name' },
    ]);
  });

  it('filters rules by source and by text in the id, name or tags', async () => {
    const bySource = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ rules(filter: { sources: ["falco"] }) { id } }',
    );
    expect(bySource.body.data?.['rules']).toEqual([{ id: SHADOW }]);
    const byTag = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ rules(filter: { search: "t1046" }) { id } }',
    );
    expect(byTag.body.data?.['rules']).toEqual([{ id: 'mamori:Port scan' }]);
  });

  it("lists the tenant's own policy rules next to the detectors' rules, and no other tenant's", async () => {
    const upsert = await gql(
      app,
      token(TENANT, 'admin'),
      'mutation ($input: PolicyInput!) { upsertPolicy(input: $input) { id } }',
      { input: { id: 'no-netcat', name: 'No netcat', deniedProcesses: ['nc'] } },
    );
    expect(upsert.body.errors).toBeUndefined();
    const ours = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ rules(filter: { sources: ["policy"] }) { id kinds detectors } }',
    );
    expect(ours.body.data?.['rules']).toEqual([
      { id: 'policy:no-netcat:denied-processes', kinds: ['PROCESS_EXEC'], detectors: [] },
    ]);
    const theirs = await gql(
      app,
      token(OTHER, 'viewer'),
      '{ rules(filter: { sources: ["policy"] }) { id } }',
    );
    expect(theirs.body.data?.['rules']).toEqual([]);
  });
});

describe('rule exceptions', () => {
  it("writes an exception for the caller's tenant, lists it with who wrote it, and audits it", async () => {
    const before = Date.now();
    const written = await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    expect(written.body.errors).toBeUndefined();
    expect(written.body.data?.['upsertRuleException']).toMatchObject({
      ...input,
      updatedBy: tokenActor(token(TENANT, 'admin')),
    });
    const at = (written.body.data?.['upsertRuleException'] as { updatedAt: string }).updatedAt;
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before - 1);

    const listed = await gql(
      app,
      token(TENANT, 'viewer'),
      `{ rule(id: "${MINER}") { exceptions { id values } } }`,
    );
    expect(listed.body.data?.['rule']).toEqual({
      exceptions: [{ id: 'portal-load-test', values: input.values }],
    });
    const others = await gql(app, token(OTHER, 'admin'), '{ ruleExceptions { id } }');
    expect(others.body.data?.['ruleExceptions']).toEqual([]);

    const [record] = await tuningRecords();
    expect(record?.key).toBe(`${TENANT}/exception/portal-load-test`);
    expect(record?.tuning).toMatchObject({
      tenant_id: TENANT,
      tuning: 'exception',
      deleted: false,
    });

    await gql(app, token(TENANT, 'admin'), UPSERT, { input: { ...input, comment: 'OPS-1235' } });
    expect(
      audits.map((a) => [a.tenant, a.entry.targetType, a.entry.targetId, a.entry.action]),
    ).toEqual([
      [TENANT, 'rule_exception', 'portal-load-test', 'create'],
      [TENANT, 'rule_exception', 'portal-load-test', 'update'],
    ]);
    expect(JSON.parse(audits[1]!.entry.note ?? '')).toMatchObject({
      rule: MINER,
      comment: 'OPS-1235',
    });
  });

  it.each([
    [{ fields: ['proc.nmae'], comps: [], values: [['xmrig']] }, 'fields', /proc\.nmae/],
    [{ fields: ['proc.name'], comps: ['like'], values: [['xmrig']] }, 'values', /like/],
    [
      { fields: ['proc.name', 'proc.exe'], comps: [], values: [['xmrig']] },
      'values',
      /one value per field/,
    ],
    [
      { fields: ['proc.name'], comps: ['=', '='], values: [['xmrig']] },
      'comps',
      /one operator per field/,
    ],
    [
      { rule: 'mamori:Crypto miner startd' },
      'rule',
      /no detector runs a rule mamori:Crypto miner startd/,
    ],
    [
      { fields: ['fd.name'], comps: ['pmatch'], values: [['/etc']] },
      'fields',
      /fires on process_exec/,
    ],
    [{ id: 'a/b' }, 'id', /id: 1 to 128/],
  ])(
    'refuses an exception that could not work, naming the field: %j',
    async (change, field, message) => {
      const result = await gql(app, token(TENANT, 'admin'), UPSERT, {
        input: { ...input, ...change },
      });
      const error = result.body.errors?.[0];
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error?.message).toMatch(message);
      expect(await tuningRecords()).toEqual([]);
      expect(audits).toEqual([]);
    },
  );

  it('deletes an exception by writing its tombstone, and says false for an unknown one', async () => {
    await gql(app, token(TENANT, 'admin'), UPSERT, { input });
    const theirs = await gql(app, token(OTHER, 'admin'), DELETE, { id: 'portal-load-test' });
    expect(theirs.body).toEqual({
      data: { deleteRuleException: { id: 'portal-load-test', deleted: false } },
    });
    const ours = await gql(app, token(TENANT, 'admin'), DELETE, { id: 'portal-load-test' });
    expect(ours.body).toEqual({
      data: { deleteRuleException: { id: 'portal-load-test', deleted: true } },
    });
    expect((await gql(app, token(TENANT, 'admin'), '{ ruleExceptions { id } }')).body).toEqual({
      data: { ruleExceptions: [] },
    });
    const last = (await tuningRecords()).at(-1);
    expect(last?.key).toBe(`${TENANT}/exception/portal-load-test`);
    expect(last?.tuning).toMatchObject({ tenant_id: TENANT, deleted: true });
    expect(audits.map((a) => a.entry.action)).toEqual(['create', 'delete']);
  });

  it.each(['viewer', 'analyst'] as const)(
    'refuses tuning changes to an %s with FORBIDDEN',
    async (role) => {
      const upsert = await gql(app, token(TENANT, role), UPSERT, { input });
      expect(upsert.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const enable = await gql(app, token(TENANT, role), ENABLE, { rule: MINER, enabled: false });
      expect(enable.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      const deleted = await gql(app, token(TENANT, role), DELETE, { id: 'portal-load-test' });
      expect(deleted.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
      expect(await tuningRecords()).toEqual([]);
    },
  );
});

describe('rule settings', () => {
  it('disables a rule for the tenant only, and enabling it again writes the tombstone', async () => {
    const off = await gql(app, token(TENANT, 'admin'), ENABLE, {
      rule: SHADOW,
      enabled: false,
      note: 'our backup agent reads /etc/shadow',
    });
    expect(off.body).toEqual({ data: { setRuleEnabled: { id: SHADOW, enabled: false } } });
    const disabled = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ rules(filter: { enabled: false }) { id } }',
    );
    expect(disabled.body.data?.['rules']).toEqual([{ id: SHADOW }]);
    const theirs = await gql(
      app,
      token(OTHER, 'viewer'),
      '{ rules(filter: { enabled: false }) { id } }',
    );
    expect(theirs.body.data?.['rules']).toEqual([]);

    const on = await gql(app, token(TENANT, 'admin'), ENABLE, { rule: SHADOW, enabled: true });
    expect(on.body).toEqual({ data: { setRuleEnabled: { id: SHADOW, enabled: true } } });
    const records = await tuningRecords();
    expect(records.map((r) => [r.key, r.tuning.setting?.enabled, r.tuning.deleted])).toEqual([
      [`${TENANT}/setting/${SHADOW}`, false, false],
      [`${TENANT}/setting/${SHADOW}`, true, true],
    ]);
    expect(
      audits.map((a) => [a.entry.targetType, a.entry.targetId, a.entry.action, a.entry.note]),
    ).toEqual([
      ['rule', SHADOW, 'disable', 'our backup agent reads /etc/shadow'],
      ['rule', SHADOW, 'enable', ''],
    ]);
  });

  it('answers NOT_FOUND for a rule no detector runs', async () => {
    const result = await gql(app, token(TENANT, 'admin'), ENABLE, {
      rule: 'falco:Nope',
      enabled: false,
    });
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'rule' });
    expect(await tuningRecords()).toEqual([]);
  });
});

describe('rules without a bus', () => {
  it('answer TUNING_UNAVAILABLE', async () => {
    const alone = testApp(warehouse, [TENANT], { logger: createSilentLogger() });
    const listed = await gql(alone, token(TENANT, 'admin'), '{ rules { id } }');
    expect(listed.body.errors?.[0]?.extensions?.['code']).toBe('TUNING_UNAVAILABLE');
    const upsert = await gql(alone, token(TENANT, 'admin'), UPSERT, { input });
    expect(upsert.body.errors?.[0]?.extensions?.['code']).toBe('TUNING_UNAVAILABLE');
  });
});
