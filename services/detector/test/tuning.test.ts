import type { EmbeddedBus } from '@mamori/bus';
import { protoType, type RuleCatalog__Output, type RuleTuning } from '@mamori/proto';
import { decodeMessage } from '@mamori/proto/wire';
import { ruleTuningKey } from '@mamori/rules';
import { describe, expect, it } from 'vitest';
import {
  harmlessEvent,
  minerEvent,
  readAlerts,
  unique,
  webRequestEvent,
} from './support/events.js';
import { harness, type Harness } from './support/harness.js';

const tuningType = protoType('mamori.v1.RuleTuning');
const MINER = 'mamori:Crypto miner started';

/** A tuning record as the API writes it. */
async function writeTuning(bus: EmbeddedBus, topic: string, tuning: RuleTuning): Promise<void> {
  const kind = tuning.setting ? 'setting' : 'exception';
  const name = tuning.setting?.rule ?? tuning.exception?.id ?? '';
  await bus.produce(topic, [
    {
      key: Buffer.from(ruleTuningKey(tuning.tenant_id ?? '', kind, name)),
      value: Buffer.from(tuningType.encode(tuningType.fromObject(tuning)).finish()),
    },
  ]);
}

/** city-a's exception: the portal's load test runs xmrig on purpose. */
const PORTAL_MINER: RuleTuning = {
  tenant_id: 'city-a',
  exception: {
    id: 'portal-load-test',
    rule: MINER,
    name: 'The portal load test mines on purpose',
    fields: ['container.image.repository', 'proc.name'],
    comps: ['=', 'in'],
    values: [{ values: ['registry.example.gov/city/portal', 'xmrig'] }],
  },
};

type TuningHarness = Harness & {
  /** How often city-a's tuning was compiled with these many exceptions and disabled rules. */
  compiled(exceptions: number, disabledRules: number): number;
};

async function tuningHarness(): Promise<TuningHarness> {
  const h = await harness('tuning');
  return {
    ...h,
    compiled(exceptions, disabledRules) {
      return h.lines.filter(
        (l) =>
          l.msg === 'tenant rule tuning compiled' &&
          l.tenant === 'city-a' &&
          l.exceptions === exceptions &&
          l.disabledRules === disabledRules,
      ).length;
    },
  };
}

const alertRules = async (h: Harness) =>
  (await readAlerts(h.bus, h.alerts)).map((a) => `${a.alert.tenant_id} ${a.alert.rule_id}`);

describe('detector rule tuning', () => {
  it("silences a rule where the tenant's exception holds, and nowhere else", async () => {
    const h = await tuningHarness();
    await writeTuning(h.bus, h.tuning, PORTAL_MINER);
    const app = await h.detector();
    // The same miner in another image, and in another tenant's portal, still alert.
    await h.evaluate(
      minerEvent(),
      minerEvent({ workload: { container_id: 'aa11', image_repository: 'docker.io/evil/miner' } }),
      minerEvent({ tenant_id: 'city-b' }),
      harmlessEvent(),
    );
    expect((await alertRules(h)).sort()).toEqual([`city-a ${MINER}`, `city-b ${MINER}`]);
    expect(
      await app.metrics.registry.getSingleMetricAsString('mamori_detector_alerts_suppressed_total'),
    ).toMatch(/by="exception"} 1/);
  });

  it('applies exceptions and rule settings written while running, without a restart', async () => {
    const h = await tuningHarness();
    await h.detector();
    await h.evaluate(minerEvent());
    expect(await alertRules(h)).toEqual([`city-a ${MINER}`]);

    await writeTuning(h.bus, h.tuning, PORTAL_MINER);
    await expect.poll(() => h.compiled(1, 0)).toBe(1);
    await h.evaluate(minerEvent());
    expect(await alertRules(h)).toHaveLength(1);

    // Disabled for the tenant: the miner in any image is silent.
    await writeTuning(h.bus, h.tuning, {
      tenant_id: 'city-a',
      setting: { rule: MINER, enabled: false },
    });
    await expect.poll(() => h.compiled(1, 1)).toBe(1);
    await h.evaluate(minerEvent({ workload: { container_id: 'aa11', image_repository: 'x/y' } }));
    expect(await alertRules(h)).toHaveLength(1);

    // Both gone: the rule fires again.
    await writeTuning(h.bus, h.tuning, {
      tenant_id: 'city-a',
      setting: { rule: MINER },
      deleted: true,
    });
    await writeTuning(h.bus, h.tuning, {
      tenant_id: 'city-a',
      exception: { id: 'portal-load-test' },
      deleted: true,
    });
    await expect
      .poll(() => h.lines.filter((l) => l.msg === 'tenant rule tuning cleared').length)
      .toBe(1);
    await h.evaluate(minerEvent());
    expect(await alertRules(h)).toHaveLength(2);
  });

  it('silences a web rule on the requests its exception names, and only that rule', async () => {
    const h = await tuningHarness();
    const NOT_BLOCKED = 'mamori:Web attack not blocked';
    await writeTuning(h.bus, h.tuning, {
      tenant_id: 'city-a',
      exception: {
        id: 'search-page',
        rule: NOT_BLOCKED,
        name: 'The search page echoes SQL it never runs',
        fields: ['http.path'],
        comps: ['startswith'],
        values: [{ values: ['/search'] }],
      },
    });
    await h.detector();
    const detectOnly = { action: 'block', categories: 'sqli' } as const;
    await h.evaluate(
      webRequestEvent(detectOnly),
      webRequestEvent(detectOnly, "/login?user=admin'--"),
      webRequestEvent({ ...detectOnly, enforced: true }),
    );
    expect((await alertRules(h)).sort()).toEqual([
      `city-a ${NOT_BLOCKED}`,
      'city-a mamori:Web request blocked',
    ]);
  });

  it('ignores an exception it cannot compile, logging why, and keeps alerting', async () => {
    const h = await tuningHarness();
    await writeTuning(h.bus, h.tuning, {
      tenant_id: 'city-a',
      exception: { id: 'typo', rule: MINER, fields: ['proc.nmae'], values: [{ values: ['x'] }] },
    });
    await h.detector();
    await h.evaluate(minerEvent());
    expect(await alertRules(h)).toEqual([`city-a ${MINER}`]);
    expect(h.lines).toContainEqual(
      expect.objectContaining({
        msg: 'rule exception ignored',
        exception: 'typo',
        problem: expect.stringContaining('proc.nmae'),
      }),
    );
  });

  it('publishes the rules it runs to the catalog topic, keyed by its group', async () => {
    const h = await tuningHarness();
    await h.detector();
    await expect.poll(async () => (await h.bus.offsets(h.catalog))[0]?.high ?? 0).toBe(1);
    const consumer = h.bus.consumer({ groupId: unique('reader'), topics: [h.catalog] });
    const seen: { key: string; catalog: RuleCatalog__Output }[] = [];
    await consumer.run((batch) => {
      for (const r of batch.records) {
        seen.push({
          key: r.key?.toString() ?? '',
          catalog: decodeMessage<RuleCatalog__Output>('mamori.v1.RuleCatalog', r.value),
        });
      }
      return Promise.resolve();
    });
    await expect.poll(() => seen.length).toBe(1);
    await consumer.close();
    expect(seen[0]!.key).toBe(h.groupId);
    const miner = seen[0]!.catalog.rules.find((r) => r.id === MINER);
    expect(miner).toMatchObject({
      name: 'Crypto miner started',
      source: 'mamori',
      kinds: ['process_exec'],
      stateful: false,
    });
    expect(miner!.tags).toEqual(expect.arrayContaining(['T1496']));
  });
});
