import { describe, expect, it } from 'vitest';
import { compileCidr, isIpv6, parseIp } from '../../src/sigma/cidr.js';

describe('cidr', () => {
  it('tests IPv4 networks', () => {
    const inTen = compileCidr('10.0.0.0/8');
    expect(inTen?.('10.200.3.4')).toBe(true);
    expect(inTen?.('11.0.0.1')).toBe(false);
    const narrow = compileCidr('192.168.1.128/25');
    expect(narrow?.('192.168.1.200')).toBe(true);
    expect(narrow?.('192.168.1.127')).toBe(false);
  });

  it('tests IPv6 networks, compressed or not', () => {
    const linkLocal = compileCidr('fe80::/10');
    expect(linkLocal?.('fe80::1')).toBe(true);
    expect(linkLocal?.('febf:0:0:0:0:0:0:1')).toBe(true);
    expect(linkLocal?.('fec0::1')).toBe(false);
    expect(compileCidr('2001:db8::/32')?.('2001:0db8:ffff::42')).toBe(true);
    expect(compileCidr('::1/128')?.('::1')).toBe(true);
    expect(compileCidr('::1/128')?.('::2')).toBe(false);
  });

  it('holds the IPv4-mapped IPv6 form of an address in an IPv4 network', () => {
    expect(compileCidr('127.0.0.0/8')?.('::ffff:127.0.0.1')).toBe(true);
    expect(compileCidr('127.0.0.0/8')?.('::ffff:10.0.0.1')).toBe(false);
  });

  it('does not compare addresses of different families', () => {
    expect(compileCidr('0.0.0.0/0')?.('::1')).toBe(false);
    expect(compileCidr('::/0')?.('10.0.0.1')).toBe(false);
  });

  it('reads a bare address as a host network', () => {
    expect(compileCidr('10.1.2.3')?.('10.1.2.3')).toBe(true);
    expect(compileCidr('10.1.2.3')?.('10.1.2.4')).toBe(false);
  });

  it('refuses what is not a network', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      '300.1.1.1/8',
      '1::2::3/64',
      'fe80::/129',
      'x/8',
      '',
    ]) {
      expect(compileCidr(bad), bad).toBeUndefined();
    }
  });

  it('does not take garbage from an event for an address', () => {
    expect(compileCidr('0.0.0.0/0')?.('not-an-ip')).toBe(false);
    expect(parseIp('1.2.3.4.5')).toBeUndefined();
    expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeUndefined();
  });

  it('tells IPv6 from IPv4 and IPv4-mapped addresses', () => {
    expect(isIpv6('2001:db8::1')).toBe(true);
    expect(isIpv6('::ffff:10.0.0.1')).toBe(false);
    expect(isIpv6('10.0.0.1')).toBe(false);
  });
});
