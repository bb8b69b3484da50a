import { createEventCodec, decodeEvent, type Event, type Event__Output } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { canonicalAddress } from '../../src/stateful/address.js';
import { createPortScanRule, PORT_SCAN_RULE_ID } from '../../src/stateful/port-scan.js';
import {
  createPartitionState,
  parseCheckpoint,
  serializePartitionState,
  statefulAlertId,
  type StatefulInstance,
} from '../../src/stateful/rule.js';
import { connectEvent, type ConnectOptions } from '../support/events.js';

const S = 1_000_000;
const noHooks = { onEvict: () => undefined };

const codec = createEventCodec();

/** The event as the detector sees it: encoded as ingest does, decoded with decodeEvent. */
function decoded(event: Event): Event__Output {
  return decodeEvent(codec.encode(event));
}

function scan(
  instance: StatefulInstance,
  ports: number[],
  overrides: (port: number, i: number) => Partial<ConnectOptions> = () => ({}),
) {
  return ports.map((port, i) =>
    instance.observe(decoded(connectEvent({ port, ...overrides(port, i) }))),
  );
}

const range = (from: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => from + i);

describe('port scan rule', () => {
  it('fires on the 15th distinct port of one destination within 5 minutes, once, with id, tags, title and ports', () => {
    const rule = createPortScanRule();
    const instance = rule.create(noHooks);
    const base = 1_700_000_000 * S;
    const events = range(20, 20).map((port, i) =>
      connectEvent({ port, micros: base + i * 10 * S }),
    );
    const alerts = events.map((event) => instance.observe(decoded(event)));
    expect(alerts.slice(0, 14).every((a) => a === undefined)).toBe(true);
    expect(alerts.slice(15).every((a) => a === undefined)).toBe(true);
    const alert = alerts[14]!;
    const crossing = events[14]!;
    const key = `city-a\0container:node-1/${crossing.workload!.container_id}\u000010.0.0.7`;
    expect(alert).toMatchObject({
      id: statefulAlertId(PORT_SCAN_RULE_ID, key, decoded(crossing)),
      rule_id: 'mamori:Port scan',
      severity: 'SEVERITY_MEDIUM',
      event_id: crossing.id,
      observed_unix_micros: crossing.observed_unix_micros,
      tenant_id: 'city-a',
      agent_id: 'node-1',
      tags: expect.arrayContaining(['T1046', 'mitre_discovery']),
      title: expect.stringMatching(/^Port scan of 10\.0\.0\.7: 15 ports within 5 minutes/),
    });
    expect(alert.details).toMatchObject({
      'fd.sip': '10.0.0.7',
      port_count: '15',
      ports: range(20, 15)
        .map((p) => `tcp/${p}`)
        .join(','),
    });
    // A replay of the same events from an empty state raises the same alert.
    const again = rule.create(noHooks);
    const replayed = events.map((event) => again.observe(decoded(event)));
    expect(replayed[14]?.id).toBe(alert.id);
  });

  it('does not fire on 14 ports, nor on 15 spread over more than 5 minutes', () => {
    const instance = createPortScanRule().create(noHooks);
    expect(scan(instance, range(1, 14)).filter(Boolean)).toHaveLength(0);
    const slow = createPortScanRule().create(noHooks);
    // One port every 25 s: never more than 13 within 5 minutes.
    const alerts = scan(slow, range(1, 30), (_, i) => ({ micros: 1_000 * S + i * 25 * S }));
    expect(alerts.filter(Boolean)).toHaveLength(0);
  });

  it('keeps destinations, sources and tenants apart', () => {
    const instance = createPortScanRule().create(noHooks);
    const alerts = scan(instance, range(1, 20), (_, i) =>
      i % 2 === 0 ? { remote: '10.0.0.8' } : { tenant: 'city-b' },
    );
    expect(alerts.filter(Boolean)).toHaveLength(0);
    expect(instance.keys).toBe(2);
    const hosts = createPortScanRule().create(noHooks);
    // Outside containers the source is the host and its local address.
    const outside = scan(hosts, range(1, 20), (_, i) => ({
      container: '',
      local: i % 2 === 0 ? '192.168.1.10' : '192.168.1.11',
    }));
    expect(outside.filter(Boolean)).toHaveLength(0);
    expect(hosts.keys).toBe(2);
  });

  it('counts a port per protocol: tcp/53 and udp/53 are two, and the details say which', () => {
    const instance = createPortScanRule().create(noHooks);
    const alerts = scan(instance, [...range(1, 7), ...range(1, 8)], (_, i) => ({
      protocol: i < 7 ? 'L4_PROTOCOL_UDP' : 'L4_PROTOCOL_TCP',
    }));
    expect(alerts.filter(Boolean)).toHaveLength(1);
    expect(alerts[14]!.details?.['ports']).toContain('udp/1');
    expect(alerts[14]!.details?.['ports']).toContain('tcp/1');
  });

  it('treats spellings of one IPv6 destination (and an IPv4-mapped one) as one destination', () => {
    const instance = createPortScanRule().create(noHooks);
    const spellings = ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '[2001:db8::0001]'];
    const alerts = scan(instance, range(1, 15), (_, i) => ({ remote: spellings[i % 3]! }));
    expect(alerts[14]?.title).toMatch(/^Port scan of 2001:db8::1: 15 ports/);
    const mapped = createPortScanRule().create(noHooks);
    const v4 = scan(mapped, range(1, 15), (_, i) => ({
      remote: i % 2 === 0 ? '::ffff:10.0.0.7' : '10.0.0.7',
    }));
    expect(v4[14]?.details?.['fd.sip']).toBe('10.0.0.7');
  });

  it('ignores connections without a remote port or address, and other kinds', () => {
    const instance = createPortScanRule().create(noHooks);
    expect(
      scan(
        instance,
        range(1, 20).map(() => 0),
      ).filter(Boolean),
    ).toHaveLength(0);
    expect(scan(instance, range(1, 20), () => ({ remote: '' })).filter(Boolean)).toHaveLength(0);
    expect(instance.keys).toBe(0);
  });

  it('resumes from a serialised partition state: 10 ports before, 5 after, one alert', () => {
    const rules = [createPortScanRule()];
    const before = createPartitionState(rules, { offset: 0, hooks: () => noHooks });
    const instance = before.instances.get(PORT_SCAN_RULE_ID)!;
    expect(scan(instance, range(1, 10)).filter(Boolean)).toHaveLength(0);
    before.offset = 10;
    const json = serializePartitionState(before);
    expect(parseCheckpoint(json)).toMatchObject({ format: 1, offset: 10 });
    const after = createPartitionState(rules, { offset: 10, hooks: () => noHooks, from: json });
    expect(serializePartitionState(after)).toBe(json);
    const alerts = scan(after.instances.get(PORT_SCAN_RULE_ID)!, range(11, 10));
    expect(alerts.map((a) => a !== undefined)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('refuses a checkpoint of another format', () => {
    const rules = [createPortScanRule()];
    expect(() =>
      createPartitionState(rules, { offset: 0, hooks: () => noHooks, from: '{"format":2}' }),
    ).toThrow(TypeError);
    expect(() => parseCheckpoint('{"format":1,"offset":-1,"rules":{}}')).toThrow(TypeError);
  });
});

describe('canonicalAddress', () => {
  it.each([
    ['10.0.0.7', '10.0.0.7'],
    ['2001:DB8::0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['[::1]', '::1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    [' Not-An-Address ', 'not-an-address'],
  ])('%s → %s', (input, output) => {
    expect(canonicalAddress(input)).toBe(output);
  });
});
