import { endianness } from 'node:os';

/** Which /proc/net table a socket came from. */
export type SocketTable = 'tcp' | 'tcp6' | 'udp' | 'udp6';

export const SOCKET_TABLES: readonly SocketTable[] = ['tcp', 'tcp6', 'udp', 'udp6'];

/** The kernel's socket states as /proc/net/{tcp,udp} print them (include/net/tcp_states.h). */
export const SocketState = {
  Established: 0x01,
  SynSent: 0x02,
  SynRecv: 0x03,
  FinWait1: 0x04,
  FinWait2: 0x05,
  TimeWait: 0x06,
  Close: 0x07,
  CloseWait: 0x08,
  LastAck: 0x09,
  Listen: 0x0a,
  Closing: 0x0b,
} as const;

/** One row of /proc/net/{tcp,tcp6,udp,udp6}, addresses decoded. */
export interface SocketEntry {
  table: SocketTable;
  protocol: 'tcp' | 'udp';
  /** Socket inode: the identity of the socket, unique across network namespaces. */
  inode: number;
  state: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** The cheap part of a row, enough to tell whether the socket was seen before. */
export interface SocketRow {
  inode: number;
  state: number;
  /** The whole line, decoded only for sockets not seen before. */
  line: string;
}

/**
 * Splits a /proc/net table into rows, reading only the inode and state of each: a poll that
 * finds nothing new decodes no address. Rows with inode 0 (TIME_WAIT, sockets not yet
 * accepted) have no owner and are left out.
 */
export function scanRows(text: string): SocketRow[] {
  const rows: SocketRow[] = [];
  let start = text.indexOf('\n') + 1; // header line
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const inode = Number(fields[9]);
    const state = parseInt(fields[3] ?? '', 16);
    if (!Number.isSafeInteger(inode) || inode <= 0 || Number.isNaN(state)) continue;
    rows.push({ inode, state, line });
  }
  return rows;
}

/** Decodes one row of a table; undefined when it is not a well-formed row. */
export function decodeRow(table: SocketTable, line: string): SocketEntry | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10) return undefined;
  const local = parseEndpoint(fields[1] ?? '');
  const remote = parseEndpoint(fields[2] ?? '');
  const inode = Number(fields[9]);
  const state = parseInt(fields[3] ?? '', 16);
  if (!local || !remote || !Number.isSafeInteger(inode) || Number.isNaN(state)) return undefined;
  return {
    table,
    protocol: table.startsWith('tcp') ? 'tcp' : 'udp',
    inode,
    state,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: remote.address,
    remotePort: remote.port,
  };
}

/** `0100007F:1F90` → { address: '127.0.0.1', port: 8080 }. */
function parseEndpoint(text: string): { address: string; port: number } | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const address = parseHexAddress(text.slice(0, colon));
  const port = parseInt(text.slice(colon + 1), 16);
  if (address === undefined || Number.isNaN(port) || port < 0 || port > 65_535) return undefined;
  return { address, port };
}

const littleEndian = endianness() === 'LE';

/**
 * Decodes an address as the kernel prints it: IPv4 as one 32-bit word and IPv6 as four, each
 * word in the host's byte order (so reversed on little-endian machines). An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, what a dual-stack listener sees of an IPv4 peer) is returned as
 * plain IPv4, so rules see one form of each IPv4 address. IPv6 is in RFC 5952 text form.
 */
export function parseHexAddress(hex: string, isLittleEndian = littleEndian): string | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const wordBytes: number[] = [];
    for (let i = 0; i < 8; i += 2) wordBytes.push(parseInt(hex.slice(word + i, word + i + 2), 16));
    if (isLittleEndian) wordBytes.reverse();
    bytes.push(...wordBytes);
  }
  if (bytes.length === 4) return bytes.join('.');
  const mapped =
    bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return bytes.slice(12).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return formatIpv6(groups);
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** Whether an address is the unspecified one (0.0.0.0 or ::), i.e. no remote side. */
export function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * What changes when a socket of a kind appears, per network namespace, from files that cost
 * far less to read than the socket tables (reading /proc/net/tcp walks the kernel's whole
 * connection hash table, milliseconds however few sockets there are): sockets in use per
 * protocol (sockstat, sockstat6; listen, connect and accept hash a TCP socket, bind a UDP
 * one) and TCP's monotonic ActiveOpens and PassiveOpens (snmp), which move even when one
 * connection closes and another opens between two polls. Equal fingerprints: the tables are
 * very likely unchanged.
 */
export function socketFingerprint(
  sockstat: string,
  sockstat6: string,
  snmp: string,
): { tcp: string; udp: string } {
  const count = (text: string, proto: string) =>
    new RegExp(`^${proto}: inuse (\\d+)`, 'm').exec(text)?.[1] ?? '';
  const tcpLines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  let opens = '';
  if (tcpLines.length >= 2) {
    const names = tcpLines[0]!.split(/\s+/);
    const values = tcpLines[1]!.split(/\s+/);
    opens = ['ActiveOpens', 'PassiveOpens']
      .map((name) => values[names.indexOf(name)] ?? '')
      .join('/');
  }
  return {
    tcp: `${count(sockstat, 'TCP')}/${count(sockstat6, 'TCP6')}/${opens}`,
    udp: `${count(sockstat, 'UDP')}/${count(sockstat6, 'UDP6')}`,
  };
}
