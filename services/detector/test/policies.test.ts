import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedBus } from '@mamori/bus';
import { protoType, type Policy } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { alertId } from '../src/index.js';
import { execEvent, harmlessEvent, readAlerts } from './support/events.js';
import { harness, type Harness } from './support/harness.js';

const policyType = protoType('mamori.v1.Policy');

/** A policy record as the API writes it: keyed `<tenant>/<id>`, protobuf. */
async function writePolicy(bus: EmbeddedBus, topic: string, policy: Policy): Promise<void> {
  await bus.produce(topic, [
    {
      key: Buffer.from(`${policy.tenant_id}/${policy.id}`),
      value: Buffer.from(policyType.encode(policyType.fromObject(policy)).finish()),
    },
  ]);
}

/** city-a's policy: netcat must not run in its workloads, and is blocked. */
const NO_NETCAT: Policy = {
  tenant_id: 'city-a',
  id: 'no-netcat',
  name: 'No netcat',
  mode: 'POLICY_MODE_BLOCK',
  denied_processes: ['nc'],
};

const netcat = (tenant = 'city-a') =>
  execEvent(['/usr/bin/nc', '-l', '4444'], { tenant_id: tenant });

/** A harness whose detector runs no rule of files or built-ins: every alert is a policy's. */
async function policyHarness(): Promise<Harness> {
  const h = await harness('policies');
  const rulesFile = join(h.dir, 'local_rules.yaml');
  writeFileSync(rulesFile, '[]\n');
  return {
    ...h,
    detector: (env) =>
      h.detector({ MAMORI_DETECTOR_BUILTIN: 'false', MAMORI_DETECTOR_RULES: rulesFile, ...env }),
  };
}

/** How many times the detector has compiled a tenant's policies into `rules` rules. */
function compiled(lines: Harness['lines'], tenant: string, rules: number): number {
  return lines.filter(
    (l) => l.msg === 'tenant policies compiled' && l.tenant === tenant && l.rules === rules,
  ).length;
}

describe('detector policies', () => {
  it("alerts on a denied process of the policy's tenant with the policy's action, and not on another tenant's", async () => {
    const h = await policyHarness();
    await writePolicy(h.bus, h.policies, NO_NETCAT);
    await h.detector();
    const ours = netcat('city-a');
    await h.evaluate(ours, netcat('city-b'), harmlessEvent());

    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.key).toBe('city-a/node-1');
    const ruleId = 'policy:no-netcat:denied-processes';
    expect(alerts[0]!.alert).toMatchObject({
      id: alertId(ruleId, 'city-a', 'node-1', ours.id!),
      tenant_id: 'city-a',
      event_id: ours.id,
      rule_id: ruleId,
      severity: 'SEVERITY_HIGH',
      details: { 'policy.id': 'no-netcat', 'policy.action': 'block', 'proc.name': 'nc' },
    });
    expect(alerts[0]!.alert.tags).toEqual(expect.arrayContaining(['policy:no-netcat']));
  });

  it('applies a policy written while running, and stops alerting once it is tombstoned', async () => {
    const h = await policyHarness();
    const app = await h.detector();
    await h.evaluate(netcat());
    expect(await readAlerts(h.bus, h.alerts)).toHaveLength(0);

    await writePolicy(h.bus, h.policies, { ...NO_NETCAT, mode: 'POLICY_MODE_DETECT' });
    await expect.poll(() => compiled(h.lines, 'city-a', 1)).toBe(1);
    const caught = netcat();
    await h.evaluate(caught);
    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts.map((a) => [a.alert.event_id, a.alert.details['policy.action']])).toEqual([
      [caught.id, 'alert'],
    ]);

    await writePolicy(h.bus, h.policies, { tenant_id: 'city-a', id: 'no-netcat', deleted: true });
    await expect.poll(() => compiled(h.lines, 'city-a', 0)).toBe(1);
    await h.evaluate(netcat());
    expect(await readAlerts(h.bus, h.alerts)).toHaveLength(1);
    expect(app.readiness()).toEqual({ ready: true });
  });
});
