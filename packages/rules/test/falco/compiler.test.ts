import { describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import { buildEvent } from '../support/events.js';
import { loadFalcoRules } from '../../src/falco/loader.js';
import { compileOne, loadOne, ruleFile } from './support.js';

const proc = {
  pid: 7,
  name: 'curl',
  exe: '/usr/bin/curl',
  args: ['curl', '-s', 'https://Example.org/x'],
  cwd: '/tmp',
  user: 'www-data',
  ancestors: [
    { pid: 6, name: 'sh', exe: '/bin/sh', args: ['sh', '-c', 'curl -s https://Example.org/x'] },
  ],
};
const exec = buildEvent({ process_exec: { process: proc } });
const open = (path: string) => buildEvent({ file_open: { process: proc, path } });

function holds(condition: string, event = exec): boolean {
  return compileOne(condition).matches(event);
}

describe('Falco operators', () => {
  it('compares text', () => {
    expect(holds('proc.name = curl and proc.name != wget')).toBe(true);
    expect(holds('proc.cmdline contains Example.org and proc.cmdline icontains EXAMPLE.ORG')).toBe(
      true,
    );
    expect(holds('proc.cmdline contains example.org')).toBe(false);
    expect(holds('proc.exepath startswith /usr/ and proc.exepath endswith /curl')).toBe(true);
    expect(holds('proc.name in (wget, curl) and proc.name intersects (curl)')).toBe(true);
    expect(holds('proc.name in (wget, nc)')).toBe(false);
  });

  it('compares numbers, with lists', () => {
    expect(
      holds('proc.pid = 7 and proc.pid < 8 and proc.pid <= 7 and proc.pid > 6 and proc.pid >= 7'),
    ).toBe(true);
    expect(holds('proc.pid in (1, 7) and proc.pid != 8')).toBe(true);
    expect(holds('proc.pid > 7')).toBe(false);
  });

  it('matches globs against the whole value, with * crossing slashes', () => {
    expect(holds('fd.name glob /home/*/.ssh/*', open('/home/a/.ssh/id_rsa'))).toBe(true);
    expect(holds('fd.name glob "*../*../*"', open('/a/b'))).toBe(false);
    expect(holds('fd.nameraw glob "*../*../*"', open('/srv/../../etc/passwd'))).toBe(true);
    expect(holds('fd.name glob /etc/[ps]*', open('/etc/passwd'))).toBe(true);
    expect(holds('fd.name glob /etc/[!ps]*', open('/etc/passwd'))).toBe(false);
    expect(holds('fd.name glob /etc/?hadow', open('/etc/shadow'))).toBe(true);
  });

  it('matches regexes against the whole value, in linear time', () => {
    expect(holds("fd.name regex '/proc/[0-9]+/environ'", open('/proc/12/environ'))).toBe(true);
    expect(holds("fd.name regex '[0-9]+/environ'", open('/proc/12/environ'))).toBe(false);
    expect(
      holds(
        "proc.cmdline regex '(a+)+$'",
        buildEvent({ process_exec: { process: { ...proc, name: 'a'.repeat(30_000) + '!' } } }),
      ),
    ).toBe(false);
    expect(loadOne("proc.name regex '(a)\\\\1'").skipped[0]?.field).toBe('proc.name');
  });

  it('matches path prefixes by component, and prefixes with globs', () => {
    const rule = compileOne('fd.name pmatch (/tmp/hello, /var/*/cache)');
    expect(rule.matches(open('/tmp/hello'))).toBe(true);
    expect(rule.matches(open('/tmp/hello/world'))).toBe(true);
    expect(rule.matches(open('/tmp/hello_world'))).toBe(false);
    expect(rule.matches(open('/var/lib/cache/x'))).toBe(true);
    expect(rule.matches(open('/var/lib/other/cache'))).toBe(false);
  });

  it('matches bytes given in hexadecimal', () => {
    expect(holds('proc.name bcontains 7572')).toBe(true); // "ur"
    expect(holds('proc.name bstartswith 6375')).toBe(true); // "cu"
    expect(holds('proc.name bstartswith 7572')).toBe(false);
    expect(loadOne('proc.name bcontains xyz').skipped[0]?.reason).toContain('hexadecimal');
  });

  it('tests presence with exists; a missing field makes every comparison false, even !=', () => {
    expect(holds('proc.pname exists and proc.aname[2] exists')).toBe(false);
    expect(holds('proc.aname[2] != sshd')).toBe(false);
    expect(holds('not proc.aname[2] = sshd')).toBe(true);
  });

  it('applies transformers, and compares with another field through val()', () => {
    expect(holds('tolower(proc.args) contains example.org and toupper(proc.name) = CURL')).toBe(
      true,
    );
    expect(
      holds('basename(proc.exepath) = curl and len(proc.name) = 4 and len(proc.args) > 10'),
    ).toBe(true);
    const encoded = buildEvent({
      process_exec: {
        process: { ...proc, args: ['sh', Buffer.from('rm -rf /').toString('base64')] },
      },
    });
    expect(holds('b64(proc.args) = "rm -rf /"', encoded)).toBe(true);
    expect(holds('proc.pexepath = val(proc.pexepath) and proc.name != val(proc.pname)')).toBe(true);
    expect(holds('proc.pcmdline contains val(proc.name)')).toBe(true);
  });

  it('refuses values of the wrong type with the field named', () => {
    expect(loadOne('proc.pid = seven').skipped[0]).toMatchObject({
      field: 'proc.pid',
      reason: expect.stringContaining('number'),
    });
    expect(loadOne('proc.name > 3').skipped[0]).toMatchObject({ field: 'proc.name' });
    expect(loadOne('container.privileged = maybe').skipped[0]).toMatchObject({
      field: 'container.privileged',
    });
    expect(loadOne('fd.snet = not-a-net').skipped[0]).toMatchObject({ field: 'fd.snet' });
    expect(loadOne('undefined_macro and proc.name = x').skipped[0]).toMatchObject({
      field: 'undefined_macro',
    });
  });

  it('computes a value once per event however many rules ask for it', () => {
    let reads = 0;
    const counted = { ...proc };
    const event = buildEvent({ process_exec: { process: counted } });
    const p = event.process_exec?.process;
    if (!p) throw new Error('no process');
    const args = p.args;
    Object.defineProperty(p, 'args', {
      get: () => {
        reads++;
        return args;
      },
    });
    const set = loadFalcoRules([
      ruleFile(
        'proc.cmdline contains x',
        'o',
        '\n- rule: s\n  desc: d\n  condition: proc.cmdline contains y\n  output: o\n  priority: INFO\n',
      ),
    ]);
    const [a, b] = set.rules;
    if (!a || !b) throw new Error('not compiled');
    a.matches(event);
    const afterFirst = reads;
    b.matches(event);
    a.matches(event);
    expect(afterFirst).toBeGreaterThan(0);
    expect(reads).toBe(afterFirst);
  });
});

describe('generated matchers', () => {
  const hostile = [
    "x'); globalThis.__mamoriPwned = 1; ('",
    'x"); globalThis.__mamoriPwned = 1; ("',
    'x`; globalThis.__mamoriPwned = 1; `',
    '*/ globalThis.__mamoriPwned = 1; /*',
    'x\\u2028globalThis.__mamoriPwned = 1',
    '${globalThis.__mamoriPwned = 1}',
  ];

  it('compares with rule text as values, never running it as code', () => {
    const g = globalThis as { __mamoriPwned?: number };
    for (const text of hostile) {
      const quoted = JSON.stringify(text);
      const rule = compileOne(
        `(proc.name = ${quoted} or proc.name in (${quoted}, curl) or proc.cmdline contains ${quoted}` +
          ` or proc.exepath startswith ${quoted} or proc.name glob ${quoted}) and not proc.name = ${JSON.stringify(`${text}z`)}`,
      );
      expect(rule.matches(exec)).toBe(true);
      const named = buildEvent({ process_exec: { process: { ...proc, name: text, args: [] } } });
      expect(rule.matches(named)).toBe(true);
      const other = buildEvent({ process_exec: { process: { ...proc, name: 'wget', args: [] } } });
      expect(rule.matches(other)).toBe(false);
    }
    expect(g.__mamoriPwned).toBeUndefined();
  });

  it('keeps hostile list items and macro bodies as values', () => {
    const g = globalThis as { __mamoriPwned?: number };
    const items = hostile.map((t) => JSON.stringify(JSON.stringify(t))).join(', ');
    const set = loadFalcoRules([
      ruleFile(
        'evil_macro and proc.name in (evil_list)',
        'o',
        `- list: evil_list\n  items: [${items}]\n` +
          `- macro: evil_macro\n  condition: (proc.pid > 0 and proc.cmdline contains ${JSON.stringify(JSON.stringify(hostile[0]))} or proc.pid = 7)\n`,
      ),
    ]);
    const rule = set.rules[0];
    if (rule === undefined) throw new Error(JSON.stringify(set));
    for (const text of hostile) {
      const named = buildEvent({ process_exec: { process: { ...proc, name: text } } });
      expect(rule.matches(named)).toBe(true);
    }
    expect(rule.matches(exec)).toBe(false);
    expect(g.__mamoriPwned).toBeUndefined();
  });

  it('checks a cheap, selective comparison before building the command line', () => {
    let reads = 0;
    const event = buildEvent({ process_exec: { process: { ...proc } } });
    const p = event.process_exec?.process;
    if (!p) throw new Error('no process');
    const args = p.args;
    Object.defineProperty(p, 'args', {
      get: () => {
        reads++;
        return args;
      },
    });
    const rule = compileOne('proc.cmdline contains Example and proc.name = wget');
    expect(rule.matches(event)).toBe(false);
    expect(reads).toBe(0);
    expect(compileOne('proc.cmdline contains Example and proc.name = curl').matches(event)).toBe(
      true,
    );
    expect(reads).toBeGreaterThan(0);
  });

  it('gives the same answers whatever order the top-level checks run in', () => {
    const conditions = [
      'proc.cmdline contains Example and proc.name = curl and not proc.pname = bash',
      'not proc.pname = sh and proc.name = curl',
      'proc.aname = sh and proc.cmdline icontains EXAMPLE and not proc.name in (wget)',
      '(proc.name = curl or proc.name = wget) and proc.exepath endswith /curl and proc.pid != 8',
      'proc.pid exists and not (proc.name = curl and proc.cwd = /tmp/)',
    ];
    const expected = [true, false, true, true, false];
    conditions.forEach((c, i) => expect(holds(c), c).toBe(expected[i]));
  });
});

describe('outputs', () => {
  const container: Event = {
    process_exec: { process: proc },
    workload: {
      container_id: 'abcdef0123456789',
      container_name: 'web',
      image_repository: 'reg/web',
      image_tag: '1',
      namespace: 'ns',
      pod_name: 'web-0',
    },
  };

  it('substitutes fields, fields with arguments and container.info, and <NA> for what is missing', () => {
    const rule = compileOne(
      'proc.name = curl',
      'Ran %proc.name (parent=%proc.pname gparent=%proc.aname[2] file=%fd.name). %container.info user=%user.name.',
    );
    expect(rule.render(buildEvent(container))).toBe(
      'Ran curl (parent=sh gparent=<NA> file=<NA>). container_id=abcdef012345 container_name=web container_image_repository=reg/web container_image_tag=1 k8s_ns_name=ns k8s_pod_name=web-0 user=www-data.',
    );
  });

  it('lists the output fields with their values, leaving out missing ones', () => {
    const rule = compileOne(
      'proc.name = curl',
      'cmd=%proc.cmdline parent=%proc.pname gp=%proc.aname[2] n=%proc.aname[1] 100%',
    );
    expect(rule.details(exec)).toEqual({
      'proc.cmdline': 'curl -s https://Example.org/x',
      'proc.pname': 'sh',
      'proc.aname[1]': 'sh',
    });
    expect(rule.render(exec)).toContain(' 100%');
  });

  it('renders flags and times as Falco does', () => {
    const rule = compileOne('evt.type = openat', '%evt.arg.flags at %evt.time');
    const event = buildEvent({
      file_open: { process: proc, path: '/x', flags: 0o101, write: true },
      observed_unix_micros: 1_700_000_000_123_456,
    });
    expect(rule.render(event)).toBe('O_WRONLY|O_CREAT at 22:13:20.123456000');
  });

  it('trims the white space a folded YAML block leaves around the output', () => {
    expect(compileOne('proc.name = curl', '  ran %proc.name\n').render(exec)).toBe('ran curl');
  });

  it('maps priorities to severities and names rules falco:<name>', () => {
    const rule = compileOne('proc.name = curl');
    expect(rule).toMatchObject({
      id: 'falco:r',
      name: 'r',
      source: 'falco',
      priority: 'WARNING',
      severity: 'medium',
      file: 'inline.yaml',
      line: 1,
    });
  });
});
