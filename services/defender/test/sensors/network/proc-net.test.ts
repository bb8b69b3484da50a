import { describe, expect, it } from 'vitest';
import { decodeRow, parseHexAddress, scanRows } from '../../../src/sensors/network/proc-net.js';

describe('parseHexAddress', () => {
  it('reads IPv4 words in little-endian byte order', () => {
    expect(parseHexAddress('0100007F', true)).toBe('127.0.0.1');
    expect(parseHexAddress('00000000', true)).toBe('0.0.0.0');
    expect(parseHexAddress('0A01A8C0', true)).toBe('192.168.1.10');
  });

  it('reads IPv4 in big-endian byte order on big-endian hosts', () => {
    expect(parseHexAddress('7F000001', false)).toBe('127.0.0.1');
  });

  it('reads IPv6 as four host-order words and prints RFC 5952 text', () => {
    expect(parseHexAddress('00000000000000000000000001000000', true)).toBe('::1');
    expect(parseHexAddress('00000000000000000000000000000000', true)).toBe('::');
    expect(parseHexAddress('B80D0120000000000000000001000000', true)).toBe('2001:db8::1');
    expect(parseHexAddress('000080FE00000000FF0050024B2D12FE', true)).toBe(
      'fe80::250:ff:fe12:2d4b',
    );
  });

  it('prints an IPv4-mapped IPv6 address as plain IPv4', () => {
    expect(parseHexAddress('0000000000000000FFFF00000100007F', true)).toBe('127.0.0.1');
  });

  it('refuses text that is no address', () => {
    expect(parseHexAddress('0100007', true)).toBeUndefined();
    expect(parseHexAddress('XYZ0007F', true)).toBeUndefined();
  });
});

describe('scanRows and decodeRow', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
    '   2: 0100007F:D432 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4343 1 0000000000000000 20 4 30 10 -1',
    '   3: garbage',
    '',
  ].join('\n');

  it('keeps rows with an owner inode and leaves TIME_WAIT rows (inode 0) out', () => {
    expect(scanRows(table).map((r) => [r.inode, r.state])).toEqual([
      [4242, 0x0a],
      [4343, 0x01],
    ]);
  });

  it('decodes a row into endpoints', () => {
    const row = scanRows(table)[1]!;
    expect(decodeRow('tcp', row.line)).toEqual({
      table: 'tcp',
      protocol: 'tcp',
      inode: 4343,
      state: 1,
      localAddress: '127.0.0.1',
      localPort: 0xd432,
      remoteAddress: '127.0.0.1',
      remotePort: 8080,
    });
  });
});
