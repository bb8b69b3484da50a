import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/** URL schemes a server-side fetch follows; gopher and dict reach any TCP service. */
const SCHEMES = [
  'http://',
  'https://',
  'gopher://',
  'dict://',
  'ftp://',
  'tftp://',
  'ldap://',
  '//',
];
/** Schemes that are an attack whatever the host: a web application has no use for them in a parameter. */
const RAW_TCP_SCHEMES = new Set(['gopher://', 'dict://', 'tftp://']);

/** Host names of cloud metadata services and of the local host. */
const INTERNAL_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'ip6-localhost',
  'ip6-loopback',
  'metadata',
  'metadata.google.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
]);

/** One part of an IPv4 address as inet_aton reads it: decimal, `0x` hex or `0` octal. */
function parsePart(part: string): number | undefined {
  if (part === '' || part.length > 12) return undefined;
  let base = 10;
  let digits = part;
  if (part.length > 1 && part[0] === '0' && (part[1] === 'x' || part[1] === 'X')) {
    base = 16;
    digits = part.slice(2);
    if (digits === '') return 0;
  } else if (part.length > 1 && part[0] === '0') {
    base = 8;
    digits = part.slice(1);
  }
  let v = 0;
  for (const ch of digits) {
    const d = parseInt(ch, base);
    if (Number.isNaN(d)) return undefined;
    v = v * base + d;
  }
  return v;
}

/**
 * An IPv4 address as the C library's inet_aton reads it, so as a server-side fetch would:
 * `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`. Undefined when it is not one.
 */
export function parseIpv4(host: string): number | undefined {
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const v = parsePart(p);
    if (v === undefined) return undefined;
    nums.push(v);
  }
  const last = nums.pop()!;
  let addr = 0;
  for (let i = 0; i < nums.length; i++) {
    if (nums[i]! > 255) return undefined;
    addr += nums[i]! * 2 ** (24 - 8 * i);
  }
  if (last >= 2 ** (32 - 8 * nums.length)) return undefined;
  return addr + last;
}

/** Whether an IPv4 address is loopback, private, link-local (metadata), CGNAT or "this network". */
function internalIpv4(a: number): string | undefined {
  const b1 = Math.floor(a / 2 ** 24);
  const b2 = Math.floor(a / 2 ** 16) & 0xff;
  if (a === 0xa9fea9fe) return 'the cloud metadata address';
  if (b1 === 127) return 'a loopback address';
  if (b1 === 0) return 'the unspecified address';
  if (b1 === 10 || (b1 === 172 && b2 >= 16 && b2 < 32) || (b1 === 192 && b2 === 168)) {
    return 'a private address';
  }
  if (b1 === 169 && b2 === 254) return 'a link-local address';
  if (b1 === 100 && b2 >= 64 && b2 < 128) return 'a shared (CGNAT) address';
  return undefined;
}

/** IPv6 in brackets: loopback, unspecified, unique local, link-local, v4-mapped, AWS metadata. */
function internalIpv6(host: string): string | undefined {
  const h = host.toLowerCase();
  const zone = h.indexOf('%');
  const addr = zone === -1 ? h : h.slice(0, zone);
  if (addr === '::1' || addr === '0:0:0:0:0:0:0:1') return 'the IPv6 loopback address';
  if (addr === '::' || addr === '0:0:0:0:0:0:0:0') return 'the IPv6 unspecified address';
  if (addr === 'fd00:ec2::254') return 'the cloud metadata address';
  if (addr.startsWith('fc') || addr.startsWith('fd')) return 'an IPv6 unique local address';
  if (
    addr.startsWith('fe8') ||
    addr.startsWith('fe9') ||
    addr.startsWith('fea') ||
    addr.startsWith('feb')
  ) {
    return 'an IPv6 link-local address';
  }
  const mapped = addr.lastIndexOf(':');
  if (addr.startsWith('::ffff:') || addr.startsWith('0:0:0:0:0:ffff:')) {
    const tail = addr.slice(mapped + 1);
    let v4 = parseIpv4(tail);
    if (v4 === undefined) {
      // ::ffff:7f00:1 — the v4 address as two hex groups.
      const groups = addr.slice(addr.indexOf('ffff:') + 5).split(':');
      if (groups.length === 2) {
        const hi = parseInt(groups[0]!, 16);
        const lo = parseInt(groups[1]!, 16);
        if (!Number.isNaN(hi) && !Number.isNaN(lo)) v4 = hi * 65536 + lo;
      }
    }
    if (v4 !== undefined) return internalIpv4(v4);
  }
  return undefined;
}

/** Why `host` is internal (loopback, private, link-local, metadata), or undefined. */
export function internalHost(host: string): string | undefined {
  let h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return internalIpv6(h.slice(1, end === -1 ? h.length : end));
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (INTERNAL_NAMES.has(h) || h.endsWith('.localhost')) return 'an internal host name';
  const first = h.charCodeAt(0);
  if (first >= 48 && first <= 57) {
    const v4 = parseIpv4(h);
    if (v4 !== undefined) return internalIpv4(v4);
  }
  return undefined;
}

/** The host of a URL that starts at `at` with `scheme`, userinfo and port stripped. */
function hostOf(text: string, from: number): string {
  let end = from;
  while (end < text.length) {
    const c = text[end]!;
    if (c === '/' || c === '?' || c === '#' || c === '\\' || c === ' ' || c === '"' || c === "'")
      break;
    end++;
  }
  let authority = text.slice(from, end);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(0, close + 1);
  }
  const colon = authority.indexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/**
 * Headers in which a browser or a proxy names where the request came from: a `Referer` or an
 * `Origin` on `localhost` is a developer's browser, not a request for the server to make.
 */
function namesTheClient(header: string): boolean {
  return (
    header === 'referer' ||
    header === 'origin' ||
    header === 'forwarded' ||
    header === 'via' ||
    header.startsWith('x-forwarded-')
  );
}

/**
 * Server-side request forgery (category `ssrf`): parameter values that are URLs to loopback,
 * private, link-local and metadata addresses, in the forms a server's resolver accepts
 * (decimal, hex, octal, short, IPv6, v4-mapped), and raw-TCP schemes (gopher, dict, tftp).
 * Headers count as parameters (`X-Callback-Url`, `X-Original-URL`), except those that name the
 * client (`Referer`, `Origin`, `Forwarded`, `X-Forwarded-*`).
 */
export const ssrfCheck: Detector = {
  name: 'ssrf-internal-url',
  categories: ['ssrf'],
  inspect(value: InspectedValue): Finding[] {
    if (value.kind === 'json-key' || (value.kind === 'header' && namesTheClient(value.name))) {
      return [];
    }
    const text = value.value;
    if (text.indexOf('//') === -1) return [];
    const lower = text.toLowerCase();
    for (const scheme of SCHEMES) {
      let at = lower.indexOf(scheme);
      // A bare `//host` only at the start of a value (a protocol-relative URL), not inside a path.
      if (scheme === '//' && at !== 0) continue;
      while (at !== -1) {
        if (RAW_TCP_SCHEMES.has(scheme)) {
          return [
            finding(
              value,
              'ssrf',
              1,
              `a ${scheme.slice(0, -3)} URL (raw TCP)`,
              text.slice(at, at + 200),
            ),
          ];
        }
        const host = hostOf(text, at + scheme.length);
        const why = host === '' ? undefined : internalHost(host);
        if (why !== undefined) {
          return [finding(value, 'ssrf', 1, `a URL to ${why} (${host})`, text.slice(at, at + 200))];
        }
        at = scheme === '//' ? -1 : lower.indexOf(scheme, at + scheme.length);
      }
    }
    return [];
  },
};
