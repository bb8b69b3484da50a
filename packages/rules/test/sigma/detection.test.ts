import { describe, expect, it } from 'vitest';
import type { Process } from '@mamori/proto';
import { loadSigmaRules } from '../../src/sigma/load-sigma-rules.js';
import type { CompiledRule } from '../../src/rule.js';
import { execEvent, sigmaRule } from './sigma-text.js';

function compile(detection: string): CompiledRule {
  const set = loadSigmaRules([{ path: 'rule.yml', text: sigmaRule({ detection }) }]);
  expect(set.problems).toEqual([]);
  expect(set.skipped).toEqual([]);
  const [rule] = set.rules;
  if (rule === undefined) throw new Error('no rule compiled');
  return rule;
}

/** Which of the processes the rule fires on. */
function firesOn(rule: CompiledRule, processes: Record<string, Process>): string[] {
  return Object.entries(processes)
    .filter(([, process]) => rule.matches(execEvent(process)))
    .map(([name]) => name);
}

const procs: Record<string, Process> = {
  curl: { exe: '/usr/bin/curl', args: ['curl', '-s', 'http://x/a.sh'], user: 'root' },
  wget: { exe: '/usr/bin/wget', args: ['wget', '-q', 'http://x/a.sh'], user: 'app' },
  sh: { exe: '/bin/sh', args: ['sh', '-c', 'id'], user: 'app' },
  vi: { exe: '/usr/bin/vi', args: ['vi', '/etc/passwd'], user: 'root' },
};

describe('Sigma detection', () => {
  it('ANDs the fields of a map', () => {
    const rule = compile('sel:\n  Image|endswith: /curl\n  User: root\ncondition: sel');
    expect(firesOn(rule, procs)).toEqual(['curl']);
  });

  it('ORs the maps of a list', () => {
    const rule = compile(
      'sel:\n  - Image|endswith: /curl\n  - User: app\n    Image|endswith: /sh\ncondition: sel',
    );
    expect(firesOn(rule, procs)).toEqual(['curl', 'sh']);
  });

  it('matches an IOC rule on the SHA-256 of the executable, in either case, and never an MD5', () => {
    const known = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const hashed = {
      miner: { exe: '/tmp/x', args: ['x'], exe_hash: `sha256:${known}` },
      other: { exe: '/tmp/y', args: ['y'], exe_hash: `sha256:${'0'.repeat(64)}` },
      unhashed: { exe: '/tmp/z', args: ['z'] },
    };
    const sha = compile(`sel:\n  Hashes|contains: 'SHA256=${known}'\ncondition: sel`);
    expect(firesOn(sha, hashed)).toEqual(['miner']);
    const md5 = compile(
      `sel:\n  Hashes|contains: 'MD5=d41d8cd98f00b204e9800998ecf8427e'\ncondition: sel`,
    );
    expect(firesOn(md5, hashed)).toEqual([]);
  });

  it('searches keyword lists in the command line, any of them', () => {
    const rule = compile('keywords:\n  - "http://x/"\n  - /ETC/PASSWD\ncondition: keywords');
    expect(firesOn(rule, procs)).toEqual(['curl', 'wget', 'vi']);
  });

  it('reads a single keyword and keywords with all', () => {
    expect(firesOn(compile('kw: "-c id"\ncondition: kw'), procs)).toEqual(['sh']);
    expect(
      firesOn(compile("kw:\n  '|all':\n    - http\n    - '-q'\ncondition: kw"), procs),
    ).toEqual(['wget']);
  });

  it('combines and, or, not and parentheses with Sigma precedence', () => {
    const sels = 'a:\n  User: root\nb:\n  Image|endswith: /sh\nc:\n  Image|endswith: /vi\n';
    expect(firesOn(compile(`${sels}condition: a and not c`), procs)).toEqual(['curl']);
    expect(firesOn(compile(`${sels}condition: b or a and c`), procs)).toEqual(['sh', 'vi']);
    expect(firesOn(compile(`${sels}condition: (b or a) and not c`), procs)).toEqual(['curl', 'sh']);
    expect(firesOn(compile(`${sels}condition: not (a or b)`), procs)).toEqual(['wget']);
  });

  it('quantifies over selection name patterns', () => {
    const sels =
      'sel_net:\n  Image|endswith:\n    - /curl\n    - /wget\nsel_root:\n  User: root\nfilter_vi:\n  Image|endswith: /vi\n';
    expect(firesOn(compile(`${sels}condition: 1 of sel_*`), procs)).toEqual(['curl', 'wget', 'vi']);
    expect(firesOn(compile(`${sels}condition: all of sel_*`), procs)).toEqual(['curl']);
    expect(firesOn(compile(`${sels}condition: 1 of sel_* and not 1 of filter*`), procs)).toEqual([
      'curl',
      'wget',
    ]);
    expect(firesOn(compile(`${sels}condition: 1 of sel_?et`), procs)).toEqual(['curl', 'wget']);
  });

  it('quantifies over them, leaving out names that start with an underscore', () => {
    const sels = 'a:\n  User: root\nb:\n  Image|endswith: /curl\n_c:\n  Image|endswith: /nothing\n';
    expect(firesOn(compile(`${sels}condition: all of them`), procs)).toEqual(['curl']);
    expect(firesOn(compile(`${sels}condition: 1 of them`), procs)).toEqual(['curl', 'vi']);
  });

  it('counts with a number other than one', () => {
    const sels =
      'a:\n  User: root\nb:\n  Image|endswith:\n    - /curl\n    - /wget\nc:\n  CommandLine|contains: http\n';
    expect(firesOn(compile(`${sels}condition: 2 of them`), procs)).toEqual(['curl', 'wget']);
  });

  it('ORs a list of conditions', () => {
    const sels = 'a:\n  Image|endswith: /sh\nb:\n  Image|endswith: /vi\n';
    expect(firesOn(compile(`${sels}condition:\n  - a\n  - b`), procs)).toEqual(['sh', 'vi']);
  });

  it('matches a null value where the parent is unknown', () => {
    const rule = compile('sel:\n  Image|endswith: /sh\n  ParentImage: null\ncondition: sel');
    expect(rule.matches(execEvent({ exe: '/bin/sh' }))).toBe(true);
    expect(
      rule.matches(execEvent({ exe: '/bin/sh', ancestors: [{ exe: '/usr/sbin/cron' }] })),
    ).toBe(false);
  });
});
