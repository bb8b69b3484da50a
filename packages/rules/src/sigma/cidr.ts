/** IPv4 and IPv6 networks for Sigma's `cidr` modifier, without regular expressions. */

/** An address as 16-bit groups: two for IPv4, eight for IPv6. */
type Groups = readonly number[];

// Character checks instead of RegExp: these run on addresses taken from events.
function isRunOf(text: string, maxLength: number, digits: string): boolean {
  if (text.length === 0 || text.length > maxLength) return false;
  for (const ch of text.toLowerCase()) if (!digits.includes(ch)) return false;
  return true;
}
const DECIMAL = '0123456789';
const HEX = '0123456789abcdef';

function parseIpv4(text: string): Groups | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!isRunOf(part, 3, DECIMAL)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    bytes.push(byte);
  }
  const [a = 0, b = 0, c = 0, d = 0] = bytes;
  return [(a << 8) | b, (c << 8) | d];
}

function parseIpv6(text: string): Groups | undefined {
  // A zone (`fe80::1%eth0`) names an interface, not part of the address.
  const address = text.split('%', 1)[0] ?? '';
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const groups: number[] = [];
    const pieces = half.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === undefined) return undefined;
        groups.push(...v4);
      } else if (isRunOf(piece, 4, HEX)) {
        groups.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parseHalf(halves[0] ?? '');
  const tail = halves.length === 2 ? parseHalf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** An address as 16-bit groups, or undefined when `text` is not an IP address. */
export function parseIp(text: string): Groups | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** True when `text` is an IPv6 address other than an IPv4-mapped one (`::ffff:a.b.c.d`). */
export function isIpv6(text: string): boolean {
  const groups = parseIp(text);
  return groups !== undefined && groups.length === 8 && unmapIpv4(groups) === undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`). */
function unmapIpv4(groups: Groups): Groups | undefined {
  if (groups.length !== 8) return undefined;
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return undefined;
  return groups[5] === 0xffff ? groups.slice(6) : undefined;
}

function prefixMatches(address: Groups, network: Groups, bits: number): boolean {
  for (let i = 0; i < network.length && bits > 0; i++) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if (((address[i] ?? 0) & mask) !== ((network[i] ?? 0) & mask)) return false;
    bits -= take;
  }
  return true;
}

/**
 * A test for addresses in `cidr` (`10.0.0.0/8`, `fe80::/10`; a bare address is a host
 * network). An IPv4 network also holds the IPv4-mapped IPv6 form of its addresses, which a
 * dual-stack socket reports.
 * @returns undefined when `cidr` is not a network.
 */
export function compileCidr(cidr: string): ((address: string) => boolean) | undefined {
  const [addressText = '', bitsText, extra] = cidr.trim().split('/');
  if (extra !== undefined) return undefined;
  const network = parseIp(addressText);
  if (network === undefined) return undefined;
  const maxBits = network.length * 16;
  let bits = maxBits;
  if (bitsText !== undefined) {
    if (!isRunOf(bitsText, 3, DECIMAL)) return undefined;
    bits = Number(bitsText);
    if (bits > maxBits) return undefined;
  }
  return (text) => {
    let address = parseIp(text);
    if (address === undefined) return false;
    if (network.length === 2 && address.length === 8) address = unmapIpv4(address);
    return address?.length === network.length && prefixMatches(address, network, bits);
  };
}
