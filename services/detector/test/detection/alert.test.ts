import { createEventCodec } from '@mamori/proto';
import { createRuleEngine, loadBuiltinRules, type CompiledRule } from '@mamori/rules';
import { describe, expect, it } from 'vitest';
import { alertId, createAlertCodec, toAlert } from '../../src/index.js';
import { decodeAlert, harmlessEvent, minerEvent, PORTAL } from '../support/events.js';

const engine = createRuleEngine(loadBuiltinRules());
const codec = createEventCodec();
/** An event as the detector sees it: decoded from its record's bytes. */
const decoded = (event: ReturnType<typeof minerEvent>) => codec.decode(codec.encode(event));

describe('alert of a rule on an event', () => {
  it("carries the event's identity, time and workload and the rule's id, severity, output, tags and details", () => {
    const event = decoded(minerEvent());
    const [rule] = engine.evaluate(event);
    expect(rule?.id).toBe('mamori:Crypto miner started');
    const alert = decodeAlert(createAlertCodec().encode(toAlert(rule!, event)));
    expect(alert).toMatchObject({
      id: alertId(rule!.id, 'city-a', 'node-1', event.id),
      tenant_id: 'city-a',
      observed_unix_micros: event.observed_unix_micros,
      rule_id: 'mamori:Crypto miner started',
      rule_name: 'Crypto miner started',
      severity: 'SEVERITY_CRITICAL',
      title:
        'Crypto miner started (process=xmrig cmdline=xmrig -o stratum+tcp://pool.example.net:3333 user=app container=3f2a9c1b7d4e image=registry.example.gov/city/portal)',
      agent_id: 'node-1',
      event_id: event.id,
      hostname: 'node-1.city-a',
      workload: PORTAL,
    });
    expect(alert.tags).toEqual(expect.arrayContaining(['T1496', 'mitre_impact']));
    expect(alert.details).toMatchObject({
      'proc.name': 'xmrig',
      'container.id': '3f2a9c1b7d4e',
    });
  });

  it('has no workload for a host-level event', () => {
    const event = decoded(minerEvent({ workload: null }));
    const [rule] = engine.evaluate(event);
    const alert = decodeAlert(createAlertCodec().encode(toAlert(rule!, event)));
    expect(alert.workload).toBeNull();
    expect(alert.hostname).toBe('node-1.city-a');
  });

  it('is titled with the rule name when the output cannot be rendered', () => {
    const event = decoded(harmlessEvent());
    const broken = {
      id: 'test:broken',
      name: 'Broken output',
      severity: 'low',
      tags: [],
      render: () => {
        throw new Error('no such field');
      },
      details: () => ({}),
    } as unknown as CompiledRule;
    expect(toAlert(broken, event)).toMatchObject({
      title: 'Broken output',
      severity: 'SEVERITY_LOW',
    });
  });
});

describe('alert id', () => {
  it('is the same for the same rule, tenant, agent and event, so a replay raises the same alert', () => {
    const id = alertId('mamori:Crypto miner started', 'city-a', 'node-1', 'evt-1');
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(alertId('mamori:Crypto miner started', 'city-a', 'node-1', 'evt-1')).toBe(id);
    const event = decoded(minerEvent());
    const [rule] = engine.evaluate(event);
    const again = decoded(minerEvent({ id: event.id }));
    expect(toAlert(rule!, again).id).toBe(toAlert(rule!, event).id);
  });

  it('differs when any of rule, tenant, agent or event differs, and fields never run together', () => {
    const ids = new Set([
      alertId('r', 'city-a', 'node-1', 'evt-1'),
      alertId('r2', 'city-a', 'node-1', 'evt-1'),
      alertId('r', 'city-b', 'node-1', 'evt-1'),
      alertId('r', 'city-a', 'node-2', 'evt-1'),
      alertId('r', 'city-a', 'node-1', 'evt-2'),
      // "a" + "b/c" and "a/b" + "c" must not meet.
      alertId('r', 'city-a', 'node-1x', 'evt'),
      alertId('r', 'city-a', 'node-1', 'xevt'),
    ]);
    expect(ids.size).toBe(7);
  });
});
