import { describe, expect, it } from 'vitest';
import { traversalDetector } from '../../../src/detectors/traversal/traversal-detector.js';
import type { Category, InspectedValue, Paranoia } from '../../../src/types.js';
import { BENIGN_TEXTS } from '../xss/benign-texts.js';

function at(value: string, name = 'q', raw = value): InspectedValue {
  return { location: `query.${name}`, value, raw, name, kind: 'query' };
}

function confidence(value: string, options: { name?: string; paranoia?: Paranoia } = {}): number {
  return traversalDetector
    .inspect(at(value, options.name), options.paranoia ?? 1)
    .reduce((max, finding) => Math.max(max, finding.confidence), 0);
}

function categories(value: string, name = 'q'): Category[] {
  return traversalDetector
    .inspect(at(value, name), 1)
    .filter((finding) => finding.confidence >= 0.9)
    .map((finding) => finding.category)
    .sort();
}

const ATTACKS = [
  '../../etc/passwd',
  '../../../../../../windows/win.ini',
  '..\\..\\..\\boot.ini',
  '/static/img/../../etc/passwd',
  '....//....//....//etc/passwd',
  '..;/..;/admin/config',
  '..\u2215..\u2215..\u2215etc\u2215passwd',
  '..\uff0f..\uff0fsecret.txt',
  '\u00c0\u00ae\u00c0\u00ae\u00c0\u00afetc\u00c0\u00afpasswd',
  '..%2f..%2fetc%2fpasswd',
  '..%c0%af..%c0%afetc/hosts',
  '%2e%2e/%2e%2e/etc/shadow',
  '../../../etc/passwd\0.png',
  '../config.php',
  '/etc/passwd',
  '/etc/shadow',
  '/proc/self/environ',
  'C:\\Windows\\win.ini',
  'c:/boot.ini',
  'file:///etc/./passwd',
  '\\\\::1\\c$\\users\\default\\ntuser.dat',
  'php://filter/convert.base64-encode/resource=index.php',
  'php://input',
  'data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWyJjIl0pOz8+',
  'expect://id',
  'zip://uploads/avatar.jpg#shell.php',
  'phar://uploads/avatar.jpg/shell.php',
  'WEB-INF/web.xml',
];

describe('traversalDetector', () => {
  it.each(ATTACKS)('blocks %j', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each(BENIGN_TEXTS)('does not block %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it.each([
    'docs/guide/intro',
    '1.2.3',
    '..',
    'Wait...',
    'and so on ... and so forth',
    'see the etc/ folder notes',
    'https://example.com/docs/page.html',
    'https://cdn.example.com/lib/app.js?v=3',
    'I edited /etc/passwd yesterday, is that bad?',
  ])('does not block the ordinary value %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it('tells traversal from local inclusion', () => {
    expect(categories('../../etc/passwd')).toEqual(['lfi', 'path-traversal']);
    expect(categories('/etc/passwd')).toEqual(['lfi']);
    expect(categories('../../uploads/x')).toEqual(['path-traversal']);
  });

  it('blocks a URL to a script in a file parameter as a remote include', () => {
    expect(categories('http://evil.example/shell.txt?', 'page')).toEqual(['rfi']);
    expect(categories('https://evil.example/y.php', 'include')).toEqual(['rfi']);
  });

  it('alerts on a bare URL in a file parameter only from paranoia 2', () => {
    expect(confidence('https://partner.example/', { name: 'url' })).toBe(0);
    const at2 = confidence('https://partner.example/', { name: 'url', paranoia: 2 });
    expect(at2).toBeGreaterThan(0);
    expect(at2).toBeLessThan(0.9);
  });

  it('does not block a URL to a page in an ordinary parameter', () => {
    expect(confidence('https://example.com/about.php', { name: 'ref' })).toBeLessThan(0.9);
  });

  it('reads overlong slashes from the raw value when the decoder garbled them', () => {
    const findings = traversalDetector.inspect(
      at(
        '\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdetc\ufffd\ufffdpasswd',
        'f',
        '%C0%AE%C0%AE%C0%AFetc%C0%AFpasswd',
      ),
      1,
    );
    expect(findings.some((f) => f.confidence >= 0.9)).toBe(true);
  });

  it('reads long hostile input without failing', () => {
    const hostile = '../'.repeat(30_000) + '%25'.repeat(30_000) + '\u00c0'.repeat(30_000);
    expect(() => traversalDetector.inspect(at(hostile), 4)).not.toThrow();
  });
});
