import { describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import { loadFalcoRules, severityOfPriority } from '../../src/falco/loader.js';
import { buildEvent } from '../support/events.js';
import { byName, fixture } from './support.js';

const process = (name: string, extra: object = {}) => ({
  pid: 10,
  name,
  exe: `/bin/${name}`,
  args: [name],
  user: 'root',
  ancestors: [{ pid: 9, name: 'containerd-shim', exe: '/usr/bin/containerd-shim', args: [] }],
  ...extra,
});
const inContainer = {
  container_id: 'c0ffee0000000000',
  image_repository: 'registry.example.gov/city/web',
};
const execIn = (name: string, extra: object = {}, workload: object = inContainer): Event => ({
  process_exec: { process: process(name, extra) },
  workload,
});
const openFor = (path: string, name: string, flags = 0o1101) =>
  buildEvent({ file_open: { process: process(name), path, flags, write: true } });

describe('loadFalcoRules on one file', () => {
  const set = loadFalcoRules([fixture('base.yaml')]);

  it('loads every rule of a well-formed file without problems', () => {
    expect(set.problems).toEqual([]);
    expect(set.skipped).toEqual([]);
    expect(set.rules.map((r) => r.name)).toEqual([
      'Shell in container',
      'Write below etc',
      'Outbound connection to a public address',
      'Inbound admin connection',
      'Process credentials read',
    ]);
    expect(byName(set, 'Write below etc')).toMatchObject({
      line: 37,
      kinds: ['file_open', 'file_write'],
      severity: 'high',
    });
  });

  it('expands lists inside lists and quoted items', () => {
    const rule = byName(set, 'Shell in container');
    expect(rule.matches(buildEvent(execIn('fish')))).toBe(true);
    expect(rule.matches(buildEvent(execIn('(sh)')))).toBe(true);
    expect(rule.matches(buildEvent(execIn('zsh')))).toBe(true);
    expect(rule.matches(buildEvent(execIn('zsh', {}, {})))).toBe(false);
    expect(rule.matches(buildEvent(execIn('python')))).toBe(false);
  });

  it('compiles exceptions, single-field and tuple forms, to "and not"', () => {
    const rule = byName(set, 'Write below etc');
    expect(rule.matches(openFor('/etc/hosts', 'vi'))).toBe(true);
    expect(rule.matches(openFor('/etc/apt/sources.list', 'dpkg'))).toBe(false);
    expect(rule.matches(openFor('/etc/hosts', 'dpkg'))).toBe(true);
    expect(rule.matches(openFor('/etc/hosts', 'puppet'))).toBe(false);
    expect(rule.matches(openFor('/etcetera/x', 'vi'))).toBe(false);
  });

  it('compares networks with CIDR lists', () => {
    const rule = byName(set, 'Outbound connection to a public address');
    const connect = (remote: string, port = 443) =>
      buildEvent({
        network_connect: {
          process: process('curl'),
          connection: {
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '10.0.0.2',
            local_port: 5000,
            remote_address: remote,
            remote_port: port,
          },
        },
      });
    expect(rule.matches(connect('93.184.216.34'))).toBe(true);
    expect(rule.matches(connect('10.1.2.3'))).toBe(false);
    expect(rule.matches(connect('93.184.216.34', 22))).toBe(false);
    expect(rule.render(connect('93.184.216.34'))).toBe(
      'Outbound connection 10.0.0.2:5000->93.184.216.34:443 (proc=curl server=93.184.216.34:443)',
    );
  });
});

describe('loadFalcoRules across files', () => {
  const set = loadFalcoRules([fixture('base.yaml'), fixture('local.yaml')]);

  it('applies a later file: legacy append to lists, macros and conditions', () => {
    expect(set.problems).toEqual([]);
    const rule = byName(set, 'Shell in container');
    // `ash` was appended to shell_binaries, which all_shells includes.
    expect(rule.matches(buildEvent(execIn('ash')))).toBe(true);
    // The appended macro condition excludes a trusted registry.
    expect(
      rule.matches(
        buildEvent(
          execIn(
            'bash',
            {},
            { container_id: 'c1', image_repository: 'registry.example.gov/trusted/x' },
          ),
        ),
      ),
    ).toBe(false);
    // The appended rule condition excludes a health check.
    expect(rule.matches(buildEvent(execIn('sh', { args: ['sh', '-c', 'healthcheck'] })))).toBe(
      false,
    );
    expect(rule.matches(buildEvent(execIn('sh', { args: ['sh', '-c', 'id'] })))).toBe(true);
  });

  it('applies override: replace and append', () => {
    const rule = byName(set, 'Shell in container');
    expect(rule).toMatchObject({
      priority: 'CRITICAL',
      severity: 'critical',
      tags: ['container', 'shell', 'T1059.004', 'pci'],
    });
    const outbound = byName(set, 'Outbound connection to a public address');
    const connect = (remote: string) =>
      buildEvent({
        network_connect: {
          process: process('curl', { args: ['curl', 'x'] }),
          connection: {
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '10.0.0.2',
            local_port: 5000,
            remote_address: remote,
            remote_port: 443,
          },
        },
      });
    expect(outbound.render(connect('1.1.1.1'))).toBe(
      'Outbound connection 10.0.0.2:5000->1.1.1.1:443 by curl x',
    );
    // 172.16.0.0/12 was appended to private_networks with override.
    expect(outbound.matches(connect('172.20.0.1'))).toBe(false);
    expect(outbound.matches(connect('1.1.1.1'))).toBe(true);
  });

  it('appends values to an exception of the same name and adds new exceptions', () => {
    const rule = byName(set, 'Write below etc');
    expect(rule.matches(openFor('/etc/hosts', 'ansible'))).toBe(false);
    expect(rule.matches(openFor('/etc/hosts', 'puppet'))).toBe(false);
    expect(rule.matches(openFor('/etc/nginx.conf', 'vi'))).toBe(false);
    expect(rule.matches(openFor('/etc/hosts', 'vi'))).toBe(true);
  });

  it('disables a rule with the legacy enabled item, and lets a later definition win', () => {
    expect(set.rules.some((r) => r.name === 'Inbound admin connection')).toBe(false);
    expect(set.skipped).toEqual([
      expect.objectContaining({
        rule: 'Inbound admin connection',
        reason: 'disabled (enabled: false)',
      }),
    ]);
    const replaced = byName(set, 'Process credentials read');
    expect(replaced.matches(buildEvent(execIn('credreader2')))).toBe(true);
    expect(replaced.matches(buildEvent(execIn('credreader')))).toBe(false);
  });

  it('loads the same files in the other order differently, as Falco does', () => {
    const reversed = loadFalcoRules([fixture('local.yaml'), fixture('base.yaml')]);
    expect(reversed.problems.length).toBeGreaterThan(0);
    expect(reversed.problems[0]).toMatchObject({
      file: 'local.yaml',
      message: expect.stringContaining('not defined before it'),
    });
    expect(byName(reversed, 'Shell in container').priority).toBe('WARNING');
  });
});

describe('loadFalcoRules on broken input', () => {
  it('reports broken rules with their line and loads the others', () => {
    const set = loadFalcoRules([fixture('broken.yaml')]);
    expect(set.rules.map((r) => r.name)).toEqual(['Fine before', 'Extra key', 'Fine after']);
    expect(set.skipped).toEqual([
      expect.objectContaining({
        rule: 'Bad condition',
        field: 'condition',
        line: 7,
        reason: expect.stringContaining("missing ')'"),
      }),
      expect.objectContaining({ rule: 'Unknown field', field: 'proc.nmae', line: 13 }),
      expect.objectContaining({
        rule: 'Not a syscall rule',
        field: 'source',
        reason: expect.stringContaining('k8s_audit'),
      }),
      expect.objectContaining({
        rule: 'Uses broken macro',
        field: 'broken_macro',
        reason: expect.stringContaining('syntax error'),
      }),
    ]);
    expect(set.problems).toEqual([
      { file: 'broken.yaml', line: 31, message: 'unknown key colour in rule Extra key' },
      expect.objectContaining({
        file: 'broken.yaml',
        line: 34,
        message: expect.stringContaining('macro broken_macro'),
      }),
      // A rule that is itself wrong is an error of the file too, not only a skipped rule.
      expect.objectContaining({
        line: 7,
        message: expect.stringMatching(/^rule Bad condition: condition: missing '\)'/),
      }),
      expect.objectContaining({
        line: 36,
        message: expect.stringContaining('rule Uses broken macro: macro broken_macro'),
      }),
    ]);
  });

  it('reports YAML errors with their line and still loads the other files', () => {
    const set = loadFalcoRules([fixture('bad-yaml.txt'), fixture('base.yaml')]);
    expect(set.problems.length).toBeGreaterThan(0);
    expect(set.problems.every((p) => p.file === 'bad-yaml.txt')).toBe(true);
    expect(set.problems[0]?.message).toMatch(/^YAML: /);
    expect(set.problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(set.rules.map((r) => r.name)).toContain('Shell in container');
    expect(set.rules.map((r) => r.name)).not.toContain('Half');
  });

  it.each([
    ['not a list', 'rule: x'],
    ['a scalar item', '- 42'],
    ['an unknown item', '- frobnicate: yes'],
    ['a rule without a name', '- rule: ""'],
    ['a list of non-scalars', '- list: l\n  items: [[a]]'],
    ['an override of nothing', '- rule: x\n  condition: y\n  override:\n    condition: append'],
    [
      'a bad override',
      '- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override:\n    items: merge',
    ],
    [
      'alias bombs',
      '- list: a\n  items: &a [x, x, x]\n- list: b\n  items: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
    ],
    ['a bad engine version', '- required_engine_version: banana'],
    ['a newer engine version', '- required_engine_version: 9.0.0'],
    ['bad plugin versions', '- required_plugin_versions: [x]'],
  ])('turns %s into a problem, never an exception', (_what, text) => {
    const set = loadFalcoRules([{ path: 'f.yaml', text }]);
    expect(set.problems.length).toBeGreaterThan(0);
    expect(set.problems[0]).toMatchObject({ file: 'f.yaml', line: expect.any(Number) });
  });

  it('survives arbitrary bytes', () => {
    for (const text of [
      '\u0000\u0001{{{',
      ']]]',
      '- rule: x\n  condition: (((',
      '---\n- a\n---\n- b',
      'a: &x\n  b: *x',
    ]) {
      expect(() => loadFalcoRules([{ path: 'f.yaml', text }])).not.toThrow();
    }
  });

  it('skips rules with a bad priority or missing keys, and exceptions that do not fit', () => {
    const set = loadFalcoRules([
      {
        path: 'f.yaml',
        text: [
          '- rule: a',
          '  condition: proc.name = a',
          '  output: a',
          '  priority: LOUD',
          '- rule: b',
          '  condition: proc.name = b',
          '  priority: INFO',
          '- rule: c',
          '  condition: proc.name = c',
          '  output: c',
          '  priority: INFO',
          '  exceptions:',
          '    - name: e',
          '      fields: [proc.name, proc.pname]',
          '      values: [[x]]',
        ].join('\n'),
      },
    ]);
    expect(set.skipped).toEqual([
      expect.objectContaining({ rule: 'a', field: 'priority', line: 1 }),
      expect.objectContaining({ rule: 'b', field: 'output', line: 5 }),
      expect.objectContaining({ rule: 'c', field: 'exceptions', line: 8 }),
    ]);
  });
});

describe('severityOfPriority', () => {
  it.each([
    ['EMERGENCY', 'critical'],
    ['alert', 'critical'],
    ['Critical', 'critical'],
    ['ERROR', 'high'],
    ['WARNING', 'medium'],
    ['NOTICE', 'low'],
    ['INFORMATIONAL', 'info'],
    ['INFO', 'info'],
    ['DEBUG', 'info'],
  ])('maps %s to %s', (priority, severity) => {
    expect(severityOfPriority(priority)).toBe(severity);
  });
});
