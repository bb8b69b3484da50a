import { describe, expect, it } from 'vitest';
import { compileLinearRegex } from '../src/linear-regex.js';

describe('compileLinearRegex', () => {
  it('searches unanchored and matches whole strings on request', () => {
    const re = compileLinearRegex('stratum\\+tcp://[a-z.]+:[0-9]+');
    expect(re.test('xmrig -o stratum+tcp://pool.example:3333 -u x')).toBe(true);
    expect(re.matchesWhole('xmrig -o stratum+tcp://pool.example:3333')).toBe(false);
    expect(re.matchesWhole('stratum+tcp://pool.example:3333')).toBe(true);
  });

  it('answers a pattern that backtracking engines take exponential time on', () => {
    const re = compileLinearRegex('^(a+)+$');
    expect(re.test(`${'a'.repeat(50_000)}!`)).toBe(false);
  });

  it('honours case-insensitivity', () => {
    expect(compileLinearRegex('NC -E', { caseInsensitive: true }).test('nc -e /bin/sh')).toBe(true);
  });

  it('refuses backreferences instead of backtracking', () => {
    expect(() => compileLinearRegex('(a)\\1')).toThrow(/invalid escape/);
  });
});
