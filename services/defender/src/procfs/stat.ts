/** The fields of /proc/<pid>/stat the readers use. */
export interface ProcStat {
  /** comm, without the parentheses; may contain spaces and parentheses itself. */
  comm: string;
  state: string;
  ppid: number;
  ttyNr: number;
  /** Start time in clock ticks after boot. */
  startTicks: number;
}

/**
 * Parses one /proc/<pid>/stat line. comm is cut at the last ')' because a process may name
 * itself "a) b (c". Returns undefined for a line that does not have the fields.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const state = rest[0];
  const ppid = Number(rest[1]);
  const ttyNr = Number(rest[4]);
  const startTicks = Number(rest[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(startTicks)) {
    return undefined;
  }
  return {
    comm: text.slice(open + 1, close),
    state,
    ppid,
    ttyNr: Number.isFinite(ttyNr) ? ttyNr : 0,
    startTicks,
  };
}

/**
 * The device path of a controlling terminal from stat's tty_nr (new_encode_dev: minor bits
 * 0-7 and 20-31, major bits 8-19); '' when the process has none.
 */
export function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '';
  const major = (ttyNr >>> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
  // Unix98 pty slaves: majors 136-143, 256 minors each (Documentation/admin-guide/devices.txt).
  if (major >= 136 && major <= 143) return `/dev/pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `/dev/tty${minor}` : `/dev/ttyS${minor - 64}`;
  if (major === 5 && minor === 0) return '/dev/tty';
  if (major === 5 && minor === 1) return '/dev/console';
  // Anything else (serial adapters, virtio consoles) by the name devtmpfs gives every device.
  return `/dev/char/${major}:${minor}`;
}

/** The fields of /proc/<pid>/status the readers use. */
export interface ProcStatus {
  /** Effective uid and gid, as Falco's user.uid: what the process acts as. */
  uid: number;
  gid: number;
  /** CapEff as a number (fits: capabilities are 41 bits today, far below 2^53). */
  capEffective: number | undefined;
}

export function parseStatus(text: string): ProcStatus {
  let uid = -1;
  let gid = -1;
  let capEffective: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('Uid:')) uid = Number(line.slice(4).trim().split(/\s+/)[1] ?? -1);
    else if (line.startsWith('Gid:')) gid = Number(line.slice(4).trim().split(/\s+/)[1] ?? -1);
    else if (line.startsWith('CapEff:')) capEffective = parseCapHex(line.slice(7).trim());
  }
  return { uid, gid, capEffective };
}

/** A capability mask in hex as status prints it; undefined when it is not hex. */
export function parseCapHex(hex: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  const value = Number.parseInt(hex, 16);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** argv from /proc/<pid>/cmdline: NUL-separated, with a trailing NUL. */
export function splitCmdline(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** loginuid, with the kernel's "unset" (4294967295, i.e. (uid_t)-1) as -1. */
export function parseLoginUid(text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value === 4294967295 || value < 0) return -1;
  return value;
}
