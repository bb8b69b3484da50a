import { describe, expect, it } from 'vitest';
import { isMamoriError } from '@mamori/common';
import { aggregateAddress, parseIpv6 } from '../../src/traffic/address.js';
import { createRateLimiter, type RateLimiterOptions } from '../../src/traffic/rate-limit.js';
import type { HttpRequest } from '../../src/request.js';

/** A limiter on a clock the test moves; starts on a round second so buckets are predictable. */
function limiter(options: RateLimiterOptions = {}) {
  const clock = { t: 1_700_000_000_000 };
  const l = createRateLimiter({ ...options, now: () => clock.t });
  return { l, clock };
}

const small: RateLimiterOptions = {
  addressLimits: { burst: { requests: 5, seconds: 2 }, average: { requests: 20, seconds: 60 } },
  banSeconds: 10,
};

function sendN(l: ReturnType<typeof createRateLimiter>, n: number, address = '192.0.2.1') {
  let limited = 0;
  for (let i = 0; i < n; i++) if (l.check({ address }).limited) limited++;
  return limited;
}

describe('createRateLimiter', () => {
  it('allows a burst up to its limit and refuses the request after it', () => {
    const { l } = limiter(small);
    expect(sendN(l, 5)).toBe(0);
    const v = l.check({ address: '192.0.2.1' });
    expect(v).toMatchObject({ limited: true, by: 'address', window: 'burst', key: '192.0.2.1' });
    if (!v.limited) throw new Error('unreachable');
    expect(v.retryAfterSeconds).toBe(10);
    expect(v.finding).toMatchObject({ category: 'rate-limit', location: 'client.address' });
    expect(v.reason).toContain('5 requests in 2 s');
  });

  it('keeps refusing during the ban, with a shrinking Retry-After, and lets the client back after it', () => {
    const { l, clock } = limiter(small);
    sendN(l, 6);
    clock.t += 4_000; // the burst window is long past, the ban is not
    const during = l.check({ address: '192.0.2.1' });
    expect(during).toMatchObject({ limited: true, window: 'burst', retryAfterSeconds: 6 });
    clock.t += 6_000;
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(false);
  });

  it('counts a steady pace against the average window even when no burst is over', () => {
    const { l, clock } = limiter(small);
    let firstLimited = -1;
    // Two requests a second: 4 per 2 s burst window, under 5; 20 per minute is reached at ~10 s.
    for (let i = 0; i < 40 && firstLimited === -1; i++) {
      if (l.check({ address: '192.0.2.1' }).limited) firstLimited = i;
      clock.t += 500;
    }
    expect(firstLimited).toBe(20);
    clock.t += 1_000;
    expect(l.check({ address: '192.0.2.1' })).toMatchObject({ limited: true, window: 'average' });
  });

  it('slides the window: the previous bucket still counts in part', () => {
    const { l, clock } = limiter(small);
    expect(sendN(l, 5)).toBe(0);
    clock.t += 2_500; // next 2 s bucket, a quarter in: 5 * 0.75 = 3.75 still counted
    expect(sendN(l, 1)).toBe(0);
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(true);
  });

  it('forgets a bucket two windows old', () => {
    const { l, clock } = limiter(small);
    expect(sendN(l, 5)).toBe(0);
    clock.t += 4_000;
    expect(sendN(l, 5)).toBe(0);
  });

  it('counts the addresses of one IPv6 /64 together and other /64s apart', () => {
    const { l } = limiter(small);
    for (let i = 1; i <= 5; i++) {
      expect(l.check({ address: `2001:db8:1:2::${i.toString(16)}` }).limited).toBe(false);
    }
    expect(l.check({ address: '2001:db8:1:2:dead:beef:0:1' })).toMatchObject({
      limited: true,
      key: '2001:db8:1:2::/64',
    });
    expect(l.check({ address: '2001:db8:1:3::1' }).limited).toBe(false);
  });

  it('counts an IPv4-mapped IPv6 peer as its IPv4 address', () => {
    const { l } = limiter(small);
    sendN(l, 5, '::ffff:192.0.2.1');
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(true);
  });

  it('limits a session across addresses and never shows its token', () => {
    const { l } = limiter({ ...small, sessionLimits: { burst: { requests: 3, seconds: 2 } } });
    const req = (token: string): HttpRequest => ({
      method: 'GET',
      url: '/',
      headers: { Authorization: `Bearer ${token}` },
    });
    for (let i = 0; i < 3; i++) {
      expect(l.check({ address: `198.51.100.${i}`, request: req('s3cr3t') }).limited).toBe(false);
    }
    const v = l.check({ address: '198.51.100.9', request: req('s3cr3t') });
    expect(v).toMatchObject({ limited: true, by: 'session' });
    if (!v.limited) throw new Error('unreachable');
    expect(v.finding.location).toBe('header.authorization');
    expect(v.key).toMatch(/^session:[\w-]{22}$/);
    expect(JSON.stringify(v)).not.toContain('s3cr3t');
    // Another token from the same address is its own session.
    expect(l.check({ address: '198.51.100.9', request: req('other') }).limited).toBe(false);
  });

  it('prefers the session cookie to the authorization header', () => {
    const { l } = limiter({ ...small, sessionLimits: { burst: { requests: 2, seconds: 2 } } });
    const req = (auth: string): HttpRequest => ({
      method: 'GET',
      url: '/',
      headers: { cookie: 'theme=dark; session=abc123', authorization: auth },
    });
    expect(l.check({ address: '', request: req('a') }).limited).toBe(false);
    expect(l.check({ address: '', request: req('b') }).limited).toBe(false);
    const v = l.check({ address: '', request: req('c') });
    expect(v.limited && v.finding.location).toBe('cookie.session');
  });

  it('does not limit a request with neither address nor session', () => {
    const { l } = limiter(small);
    for (let i = 0; i < 20; i++) {
      expect(l.check({ address: '', request: { method: 'GET', url: '/' } }).limited).toBe(false);
    }
    expect(l.size).toBe(0);
  });

  it('tracks at most maxKeys keys, forgetting the least recently seen', () => {
    const { l } = limiter({ ...small, maxKeys: 3 });
    sendN(l, 6, '192.0.2.1'); // banned
    sendN(l, 1, '192.0.2.2');
    sendN(l, 1, '192.0.2.3');
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(true); // touched: most recent now
    sendN(l, 1, '192.0.2.4'); // evicts .2
    expect(l.size).toBe(3);
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(true);
    for (let i = 0; i < 1000; i++) l.check({ address: `10.0.${i >> 8}.${i & 255}` });
    expect(l.size).toBe(3);
    expect(l.check({ address: '192.0.2.1' }).limited).toBe(false); // evicted with its ban
  });

  it('rejects a limit of zero requests naming the field', () => {
    try {
      createRateLimiter({ addressLimits: { burst: { requests: 0, seconds: 1 } } });
      expect.unreachable();
    } catch (err) {
      expect(isMamoriError(err, 'MAMORI_CONFIG')).toBe(true);
      if (isMamoriError(err)) expect(err.context['field']).toBe('addressLimits.burst.requests');
    }
    expect(() => createRateLimiter({ ipv6Prefix: 129 })).toThrow(/ipv6Prefix/);
  });
});

describe('aggregateAddress', () => {
  it('groups IPv6 by /64 by default and at other prefixes on request', () => {
    expect(aggregateAddress('2001:DB8:0001:0002:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(aggregateAddress('[2001:db8::1]:443')).toBe('2001:db8:0:0::/64');
    expect(aggregateAddress('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(aggregateAddress('2001:db8:1:2:3:4:5:6', { ipv6Prefix: 56 })).toBe('2001:db8:1:0::/56');
    expect(aggregateAddress('2001:db8::1', { ipv6Prefix: 128 })).toBe('2001:db8:0:0:0:0:0:1');
  });

  it('keeps IPv4 whole by default and masks it when asked', () => {
    expect(aggregateAddress('203.0.113.77')).toBe('203.0.113.77');
    expect(aggregateAddress('203.0.113.77', { ipv4Prefix: 24 })).toBe('203.0.113.0/24');
    expect(aggregateAddress('::ffff:203.0.113.77')).toBe('203.0.113.77');
  });

  it('keeps an unparseable address as its own key, cut short', () => {
    expect(aggregateAddress('unix:/run/x.sock')).toBe('unix:/run/x.sock');
    expect(aggregateAddress('x'.repeat(500))).toHaveLength(64);
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(parseIpv6('12g4::1')).toBeUndefined();
  });
});
