import { describe, expect, it } from 'vitest';
import {
  compilePattern,
  literalOf,
  parseSigmaPattern,
  widenPattern,
} from '../../src/sigma/wildcard.js';

const matcher = (value: string, caseSensitive = true) =>
  compilePattern(parseSigmaPattern(value, caseSensitive));

describe('Sigma wildcards', () => {
  it('matches * as any run of characters, including none', () => {
    const m = matcher('/usr/*/python*');
    expect(m('/usr/bin/python3')).toBe(true);
    expect(m('/usr//python')).toBe(true);
    expect(m('/usr/bin/perl')).toBe(false);
    expect(m('/opt/usr/bin/python3')).toBe(false);
  });

  it('matches ? as exactly one character', () => {
    const m = matcher('/tmp/?.sh');
    expect(m('/tmp/a.sh')).toBe(true);
    expect(m('/tmp/.sh')).toBe(false);
    expect(m('/tmp/ab.sh')).toBe(false);
  });

  it('combines ? inside a segment between stars', () => {
    const m = matcher('*nc -?e*');
    expect(m('busybox nc -le /bin/sh')).toBe(true);
    expect(m('nc -e /bin/sh')).toBe(false);
  });

  it('treats escaped wildcards and backslashes as literal characters', () => {
    expect(matcher('a\\*b')('a*b')).toBe(true);
    expect(matcher('a\\*b')('axxb')).toBe(false);
    expect(matcher('what\\?')('what?')).toBe(true);
    expect(matcher('what\\?')('whatx')).toBe(false);
    expect(matcher('C:\\\\*')('C:\\Windows')).toBe(true);
  });

  it('keeps a backslash before any other character', () => {
    expect(matcher('C:\\Windows\\\\*')('C:\\Windows\\system32')).toBe(true);
    // Before a wildcard a single backslash escapes it (the Sigma specification).
    expect(matcher('C:\\Windows\\*')('C:\\Windows\\system32')).toBe(false);
    expect(literalOf(parseSigmaPattern('\\n', true))).toBe('\\n');
  });

  it('lower-cases the pattern when matching case-insensitively', () => {
    expect(matcher('*/BIN/Bash', false)('/usr/bin/bash')).toBe(true);
    expect(matcher('*/BIN/Bash', true)('/usr/bin/bash')).toBe(false);
  });

  it('widens a pattern for contains, startswith and endswith', () => {
    const base = parseSigmaPattern('curl', true);
    expect(compilePattern(widenPattern(base, { start: true, end: true }))('x curl y')).toBe(true);
    expect(compilePattern(widenPattern(base, { start: false, end: true }))('x curl')).toBe(false);
    expect(compilePattern(widenPattern(base, { start: true, end: false }))('x curl')).toBe(true);
  });

  it('reports a pattern without wildcards as a literal', () => {
    expect(literalOf(parseSigmaPattern('/bin/sh', true))).toBe('/bin/sh');
    expect(literalOf(parseSigmaPattern('/bin/*', true))).toBeUndefined();
    expect(literalOf(parseSigmaPattern('/bin/?', true))).toBeUndefined();
  });

  it('does not place a later segment inside the suffix', () => {
    // `*ab*b` on "ab": the middle `ab` would overlap the final `b`.
    expect(matcher('*ab*b')('ab')).toBe(false);
    expect(matcher('*ab*b')('abb')).toBe(true);
  });

  it('answers a pattern with many stars on a long near miss without blowing up', () => {
    const m = matcher(`${'*a'.repeat(30)}*b`);
    const input = 'a'.repeat(200_000);
    // A backtracking matcher needs about C(200000, 30) steps here and never returns.
    expect(m(input)).toBe(false);
    expect(m(`${input}b`)).toBe(true);
  });
});
