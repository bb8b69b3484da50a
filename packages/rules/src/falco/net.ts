/** IP addresses and networks as Falco's `fd.*ip` and `fd.*net` fields compare them. */

export type ParsedIp =
  { readonly v: 4; readonly n: number } | { readonly v: 6; readonly n: bigint };

/** An IPv4 address as an unsigned 32-bit number, or undefined when `s` is not one. */
export function parseIpv4(s: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

function parseIpv6(s: string): bigint | undefined {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const double = s.indexOf('::');
  if (double !== s.lastIndexOf('::')) return undefined;
  const head = double >= 0 ? s.slice(0, double) : s;
  const tail = double >= 0 ? s.slice(double + 2) : '';
  const groups = (text: string): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    const parts = text.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      // An embedded IPv4 address may end the address (::ffff:10.0.0.1).
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (p.length === 0 || p.length > 4 || !/^[0-9a-fA-F]+$/.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === undefined || t === undefined) return undefined;
  const missing = 8 - h.length - t.length;
  if (double >= 0 ? missing < 1 : missing !== 0) return undefined;
  let n = 0n;
  for (const g of [...h, ...new Array<number>(missing).fill(0), ...t]) n = (n << 16n) | BigInt(g);
  return n;
}

// The last two addresses parsed: an event's client and server addresses are compared by
// several rules in a row, and the strings are the same objects each time.
let cacheA: string | undefined;
let cacheAValue: ParsedIp | undefined;
let cacheB: string | undefined;
let cacheBValue: ParsedIp | undefined;

/** An IPv4 or IPv6 address; IPv4-mapped IPv6 addresses count as IPv4, as the kernel means. */
export function parseIp(s: string): ParsedIp | undefined {
  if (s === cacheA) return cacheAValue;
  if (s === cacheB) return cacheBValue;
  const parsed = parseIpUncached(s);
  cacheB = cacheA;
  cacheBValue = cacheAValue;
  cacheA = s;
  cacheAValue = parsed;
  return parsed;
}

function parseIpUncached(s: string): ParsedIp | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { v: 4, n: v4 };
  if (!s.includes(':')) return undefined;
  const v6 = parseIpv6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) {
    return { v: 4, n: Number(v6 & 0xffffffffn) };
  }
  return { v: 6, n: v6 };
}

/** A text that is equal for equal addresses (`::1` and `0:0::1`), or undefined. */
export function ipKey(s: string): string | undefined {
  const ip = parseIp(s);
  // An IPv4 address in dotted form is already its own key.
  if (ip !== undefined && ip.v === 4 && !s.includes(':')) return s;
  if (ip === undefined) return undefined;
  return ip.v === 4 ? ipv4Text(ip.n) : ip.n.toString(16);
}

function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Network {
  readonly v: 4 | 6;
  readonly bits: number;
  contains(ip: ParsedIp): boolean;
}

/** A network `a.b.c.d/n` or `x::/n`; a bare address is a /32 (or /128). */
export function parseCidr(s: string): Network | undefined {
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (ip === undefined) return undefined;
  const max = ip.v === 4 ? 32 : 128;
  const bitsText = slash < 0 ? String(max) : s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > max) return undefined;
  if (ip.v === 4) {
    const size = 2 ** (32 - bits);
    const base = Math.floor(ip.n / size);
    return {
      v: 4,
      bits,
      contains: (other) => other.v === 4 && Math.floor(other.n / size) === base,
    };
  }
  const shift = BigInt(128 - bits);
  const base = ip.n >> shift;
  return {
    v: 6,
    bits,
    contains: (other) => other.v === 6 && other.n >> shift === base,
  };
}
