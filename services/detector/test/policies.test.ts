import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { captureLogs } from '@mamori/common/testing';
import { protoType, type Policy } from '@mamori/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { alertId, buildApp, readDetectorConfig, type DetectorApp } from '../src/index.js';
import {
  committedCount,
  execEvent,
  harmlessEvent,
  produceEvents,
  readAlerts,
  unique,
} from './support/events.js';

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

interface Harness {
  bus: EmbeddedBus;
  events: string;
  alerts: string;
  policies: string;
  groupId: string;
  lines: ReturnType<typeof captureLogs>['lines'];
  detector(): Promise<DetectorApp>;
  /** Produces events and waits until the detector has committed all of them. */
  evaluate(...events: ReturnType<typeof execEvent>[]): Promise<void>;
}

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-detector-policies-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  onTestFinished(() => bus.close());
  const events = unique('events');
  const alerts = unique('alerts');
  const policies = unique('policies');
  const groupId = unique('detector');
  await bus.ensureTopics([
    { topic: events, partitions: 2 },
    { topic: policies, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
  ]);
  // No built-ins: every alert of these tests comes from a policy.
  const rulesFile = join(dir, 'local_rules.yaml');
  writeFileSync(rulesFile, '[]\n');
  const { logger, lines } = captureLogs();
  let sent = 0;
  return {
    bus,
    events,
    alerts,
    policies,
    groupId,
    lines,
    async detector() {
      const config = readDetectorConfig({
        MAMORI_DATA_DIR: dir,
        MAMORI_TOPIC_EVENTS: events,
        MAMORI_TOPIC_ALERTS: alerts,
        MAMORI_TOPIC_POLICIES: policies,
        MAMORI_DETECTOR_GROUP: groupId,
        MAMORI_DETECTOR_BUILTIN: 'false',
        MAMORI_DETECTOR_RULES: rulesFile,
        MAMORI_DETECTOR_STATEFUL: 'false',
        MAMORI_EVENTS_PARTITIONS: '2',
      });
      const app = buildApp({ config, bus, logger, policySyncTimeoutMs: 5_000 });
      onTestFinished(() => app.stop(0));
      await app.start();
      return app;
    },
    async evaluate(...batch) {
      sent += batch.length;
      await produceEvents(bus, events, batch);
      await expect.poll(() => committedCount(bus, groupId, events)).toBe(sent);
    },
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
    const h = await harness();
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
    const h = await harness();
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
