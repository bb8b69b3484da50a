import { describe, expect, it } from 'vitest';
import { ldapDetector } from '../../../src/detectors/ldap/ldap-detector.js';
import { createInspector } from '../../../src/inspect.js';
import type { InspectedValue, Paranoia } from '../../../src/types.js';
import { BENIGN_TEXTS } from '../xss/benign-texts.js';

function confidence(value: string, paranoia: Paranoia = 1): number {
  const v: InspectedValue = {
    location: 'query.user',
    value,
    raw: value,
    name: 'user',
    kind: 'query',
  };
  return ldapDetector.inspect(v, paranoia).reduce((max, f) => Math.max(max, f.confidence), 0);
}

describe('ldapDetector', () => {
  it.each([
    '*)(uid=*))(|(uid=*',
    'admin)(&)',
    'jdoe)(|(mail=*)',
    'x*)(objectClass=*',
    '(|(cn=*)(sn=*))',
    '(!(userAccountControl:1.2.840.113556.1.4.803:=2))',
    'cn:dn:=admins',
    'mail:caseIgnoreMatch:=root@example.org',
    '*)(memberOf=cn=Domain Admins,cn=Users,dc=corp,dc=example',
    'Ann)(givenName>=A',
    'z)(|(1.3.6.1.4.1.1466.115.121.1.15~=x',
    'bob*)(|',
    'eve)(&',
    'root*)((|userPassword=*)',
  ])('blocks the filter injection %j', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    'Acme (UK) Ltd',
    'smile :) (see=below)',
    '(555) 123-4567',
    'memcpy(&(s->x), src, n);',
    'search (a|b) and (c&d)',
    'x := y + 1',
    '=SUM(A1:B2)',
    '{"filter":"active","sort":"name"}',
    '株式会社（東京）の(新)製品=良い',
    "O'Brien (née Smith)",
    'time: 12:30 (UTC+1)',
    'if (a) (b = c)',
    'https://example.org/wiki/Function_(mathematics)',
    'Figure 2(a)(c=0.5) and 2(b)(o=1)',
    'area = 2*(a+b)(x=3)',
    'Tom & Jerry (1940)(& more)',
    'options: (a)(b)|(c)',
    'Filter: (&(objectClass=person)(mail=*@example.com)) returns nothing, why?',
    'try (uid=jdoe)(mail=*) in the search box',
    '(a)(cn=*)',
  ])('leaves %j alone', (text) => {
    expect(confidence(text)).toBe(0);
  });

  it.each(BENIGN_TEXTS)('does not block %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it('only alerts, from paranoia 2, on an item of an unknown attribute after a breakout', () => {
    expect(confidence('x)(y=2', 1)).toBe(0);
    expect(confidence('x)(y=2', 2)).toBe(0.6);
    // Parentheses the value opened itself close nothing of the application's.
    expect(confidence('f(x)(y=2)', 2)).toBe(0);
  });

  it('reads long hostile input without failing', () => {
    const hostile = ')('.repeat(40_000) + '(&('.repeat(20_000) + 'a='.repeat(20_000);
    expect(() => confidence(hostile, 4)).not.toThrow();
  });

  it('is registered: the inspector blocks a filter injection in a form field', () => {
    const verdict = createInspector().inspect({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=admin%29%28%26%29&password=x',
    });
    expect(verdict).toMatchObject({ action: 'block', findings: [{ category: 'ldapi' }] });
  });
});
