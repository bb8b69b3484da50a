/** Prefix lengths that {@link aggregateAddress} groups client addresses by. */
export interface AddressPrefixes {
  /** Bits of an IPv4 address kept. @default 32 (one address) */
  ipv4Prefix?: number;
  /**
   * Bits of an IPv6 address kept. @default 64: a subscriber usually gets a whole /64 (often
   * larger) and picks addresses in it freely, so per-address limits on IPv6 are no limits.
   */
  ipv6Prefix?: number;
}

/** Characters of an unparseable address kept as its key: enough for any real address form. */
const MAX_RAW_ADDRESS = 64;

/** The four octets of a dotted-quad IPv4 address, or undefined. Decimal only, as sockets give it. */
function parseDottedQuad(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    let n = 0;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      n = n * 10 + c;
    }
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseGroup(g: string): number | undefined {
  if (g.length === 0 || g.length > 4) return undefined;
  let n = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i);
    const d =
      c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d === -1) return undefined;
    n = n * 16 + d;
  }
  return n;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseDottedQuad(p);
      if (v4 === undefined) return false;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    const g = parseGroup(p);
    if (g === undefined) return false;
    out.push(g);
  }
  return true;
}

/**
 * The eight 16-bit groups of an IPv6 address (`::` compression, an embedded dotted quad, a zone
 * id), or undefined.
 */
export function parseIpv6(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  const addr = zone === -1 ? text : text.slice(0, zone);
  if (addr.length > 45) return undefined;
  const gap = addr.indexOf('::');
  if (gap === -1) {
    const groups: number[] = [];
    return parseGroups(addr, groups) && groups.length === 8 ? groups : undefined;
  }
  if (addr.indexOf('::', gap + 1) !== -1) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseGroups(addr.slice(0, gap), head) || !parseGroups(addr.slice(gap + 2), tail)) {
    return undefined;
  }
  const zeros = 8 - head.length - tail.length;
  if (zeros < 1) return undefined;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

function stripBrackets(text: string): string {
  // `[2001:db8::1]:443` as some proxies log a peer.
  if (!text.startsWith('[')) return text;
  const close = text.indexOf(']');
  return close === -1 ? text : text.slice(1, close);
}

function ipv4Key(octets: number[], prefix: number): string {
  const n =
    (((octets[0] ?? 0) << 24) |
      ((octets[1] ?? 0) << 16) |
      ((octets[2] ?? 0) << 8) |
      (octets[3] ?? 0)) >>>
    0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const m = (n & mask) >>> 0;
  const dotted = `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
  return prefix === 32 ? dotted : `${dotted}/${prefix}`;
}

function ipv6Key(groups: number[], prefix: number): string {
  const masked = groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
  const kept = Math.ceil(prefix / 16);
  const head = masked.slice(0, kept).map((g) => g.toString(16));
  if (prefix === 128) return head.join(':');
  return kept === 8 ? `${head.join(':')}/${prefix}` : `${head.join(':')}::/${prefix}`;
}

/**
 * The key a client address is counted under: an IPv4 address (or its /N network), an IPv6
 * address's network at `ipv6Prefix` (`2001:db8:1:2::/64`); an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, as a dual-stack socket reports IPv4 peers) counts as IPv4. Anything
 * unparseable is its own key, cut to 64 characters. Never throws.
 */
export function aggregateAddress(address: string, prefixes: AddressPrefixes = {}): string {
  const text = stripBrackets(address.trim());
  const v4Prefix = prefixes.ipv4Prefix ?? 32;
  const v6Prefix = prefixes.ipv6Prefix ?? 64;
  const v4 = parseDottedQuad(text);
  if (v4 !== undefined) return ipv4Key(v4, v4Prefix);
  const v6 = parseIpv6(text);
  if (v6 === undefined) return text.slice(0, MAX_RAW_ADDRESS);
  const mapped = v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff;
  if (mapped) {
    const hi = v6[6] ?? 0;
    const lo = v6[7] ?? 0;
    return ipv4Key([hi >>> 8, hi & 255, lo >>> 8, lo & 255], v4Prefix);
  }
  return ipv6Key(v6, v6Prefix);
}
