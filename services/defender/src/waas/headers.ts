import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Headers of one connection, not of the message (RFC 9110 §7.6.1): a proxy consumes them and
 * never forwards them. `proxy-*` are the client's credentials and settings for this proxy.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Whether a lower-case header name belongs to the connection rather than to the message. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/**
 * Headers to forward: without hop-by-hop ones, and without those the `Connection` header
 * names (a sender may declare any header as hop-by-hop that way).
 */
export function endToEndHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set<string>();
  const connection = headers.connection;
  if (connection !== undefined) {
    for (const token of connection.split(',')) named.add(token.trim().toLowerCase());
  }
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || isHopByHop(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The address a socket reports, without the IPv4-mapped IPv6 prefix. */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Request headers for the upstream: end-to-end headers plus `x-forwarded-for` (the client's
 * address appended to what earlier proxies wrote), and `x-forwarded-proto` / `-host` unless a
 * proxy in front of this one (a TLS terminator) already set them.
 */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  client: { address: string; proto: 'http' | 'https' },
): OutgoingHttpHeaders {
  const out = endToEndHeaders(headers);
  const xff = headers['x-forwarded-for'];
  const prior = Array.isArray(xff) ? xff.join(', ') : (xff ?? '');
  out['x-forwarded-for'] = prior === '' ? client.address : `${prior}, ${client.address}`;
  out['x-forwarded-proto'] ??= client.proto;
  if (headers.host !== undefined) out['x-forwarded-host'] ??= headers.host;
  return out;
}
