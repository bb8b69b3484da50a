import { describe, expect, it } from 'vitest';
import {
  fdTypeFromLink,
  parseCapHex,
  parseLoginUid,
  parsePasswd,
  parseStat,
  parseStatus,
  rootOverlayUpperDir,
  splitCmdline,
  ttyName,
} from '../../src/procfs/index.js';

describe('parseStat', () => {
  it('keeps a comm that contains spaces and parentheses whole', () => {
    const line =
      '4242 (a) b (c) S 17 4242 4242 34816 4242 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 1000 100 0';
    expect(parseStat(line)).toEqual({
      comm: 'a) b (c',
      state: 'S',
      ppid: 17,
      ttyNr: 34816,
      startTicks: 987654,
    });
  });

  it('rejects a line without the fields', () => {
    expect(parseStat('garbage')).toBeUndefined();
  });
});

describe('ttyName', () => {
  it('names pty slaves, virtual consoles and serial lines, and no terminal as empty', () => {
    expect(ttyName(0)).toBe('');
    expect(ttyName((136 << 8) | 3)).toBe('/dev/pts/3');
    // pts 300: major 137, minor 44.
    expect(ttyName((137 << 8) | 44)).toBe('/dev/pts/300');
    // minor 0x104 is encoded with its high bits at 20-31.
    expect(ttyName((136 << 8) | 0x04 | (0x1 << 20))).toBe('/dev/pts/260');
    expect(ttyName((4 << 8) | 1)).toBe('/dev/tty1');
    expect(ttyName((4 << 8) | 64)).toBe('/dev/ttyS0');
    expect(ttyName((5 << 8) | 1)).toBe('/dev/console');
  });
});

describe('status, cmdline and loginuid', () => {
  it('takes the effective uid and gid and CapEff as a number', () => {
    const status =
      'Name:\tping\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1001\t1001\t1001\nCapEff:\t000001ffffffffff\n';
    expect(parseStatus(status)).toEqual({ uid: 0, gid: 1001, capEffective: 0x1ffffffffff });
    expect(parseCapHex('0000000000000000')).toBe(0);
    expect(parseCapHex('zz')).toBeUndefined();
  });

  it('splits argv on NUL, keeping empty arguments', () => {
    expect(splitCmdline('sh\0-c\0\0echo hi\0')).toEqual(['sh', '-c', '', 'echo hi']);
    expect(splitCmdline('')).toEqual([]);
  });

  it('reports an unset login uid as -1', () => {
    expect(parseLoginUid('4294967295')).toBe(-1);
    expect(parseLoginUid('1000')).toBe(1000);
  });

  it('reads passwd names by uid, first entry wins', () => {
    const users = parsePasswd(
      'root:x:0:0:root:/root:/bin/bash\n# c\nbad\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\nalias:x:0:0::/:/bin/sh\n',
    );
    expect(users.get(0)).toBe('root');
    expect(users.get(33)).toBe('www-data');
  });
});

describe('fdTypeFromLink', () => {
  it('uses Falco fd.type words', () => {
    expect(fdTypeFromLink('/dev/pts/0')).toBe('file');
    expect(fdTypeFromLink('/dev/null')).toBe('file');
    expect(fdTypeFromLink('pipe:[1234]')).toBe('pipe');
    expect(fdTypeFromLink('socket:[99]')).toBe('socket:99');
    expect(fdTypeFromLink('anon_inode:[eventpoll]')).toBe('eventpoll');
    expect(fdTypeFromLink('anon_inode:[eventfd]')).toBe('event');
    expect(fdTypeFromLink('anon_inode:inotify')).toBe('inotify');
    expect(fdTypeFromLink('/memfd:x (deleted)')).toBe('memfd');
    expect(fdTypeFromLink('')).toBe('');
  });
});

describe('rootOverlayUpperDir', () => {
  it('finds the upper directory of an overlay root and nothing for a host root', () => {
    const container =
      '1520 1300 0:280 / / rw,relatime master:512 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/var/lib/docker/overlay2/abc/work\n' +
      '1521 1520 0:283 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n';
    expect(rootOverlayUpperDir(container)).toBe('/var/lib/docker/overlay2/abc/diff');
    expect(
      rootOverlayUpperDir('25 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n'),
    ).toBeUndefined();
  });
});
