import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What an fd is, in Falco's fd.type words, from its /proc/<pid>/fd/N link target; sockets
 * are returned as `socket:<inode>` for {@link resolveSocketTypes} to finish. '' when unknown.
 */
export function fdTypeFromLink(target: string): string {
  if (target === '') return '';
  // memfd_create(2) files read as "/memfd:name (deleted)".
  if (target.startsWith('/memfd:')) return 'memfd';
  if (target.startsWith('/')) return 'file';
  if (target.startsWith('pipe:')) return 'pipe';
  const socket = /^socket:\[(\d+)\]$/.exec(target);
  if (socket) return `socket:${socket[1]}`;
  if (target.startsWith('anon_inode:')) {
    const kind = target.slice('anon_inode:'.length).replace(/^\[|\]$/g, '');
    switch (kind) {
      case 'eventpoll':
        return 'eventpoll';
      case 'eventfd':
        return 'event';
      case 'signalfd':
        return 'signalfd';
      case 'inotify':
        return 'inotify';
      case 'timerfd':
        return 'timerfd';
      case 'bpf-map':
      case 'bpf-prog':
      case 'bpf_link':
        return 'bpf';
      case 'userfaultfd':
        return 'userfaultfd';
      case 'io_uring':
        return 'io_uring';
      default:
        return '';
    }
  }
  return '';
}

// The tables a socket's inode is looked up in, the first that lists it wins; the column of
// the inode in each (0-based, whitespace-separated, header line skipped).
const SOCKET_TABLES: readonly { file: string; type: string; inodeColumn: number }[] = [
  { file: 'tcp', type: 'ipv4', inodeColumn: 9 },
  { file: 'tcp6', type: 'ipv6', inodeColumn: 9 },
  { file: 'udp', type: 'ipv4', inodeColumn: 9 },
  { file: 'udp6', type: 'ipv6', inodeColumn: 9 },
  { file: 'unix', type: 'unix', inodeColumn: 6 },
  { file: 'raw', type: 'ipv4', inodeColumn: 9 },
  { file: 'raw6', type: 'ipv6', inodeColumn: 9 },
  { file: 'netlink', type: 'netlink', inodeColumn: 9 },
];

/** Inodes of a /proc/net table, e.g. tcp or unix. */
function socketInodes(table: string, inodeColumn: number): Set<string> {
  const inodes = new Set<string>();
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const inode = lines[i]?.trim().split(/\s+/)[inodeColumn];
    if (inode !== undefined) inodes.add(inode);
  }
  return inodes;
}

/**
 * Replaces `socket:<inode>` entries by ipv4, ipv6, unix or netlink, reading the tables of the
 * process's own network namespace (/proc/<pid>/net/…) only as far as needed; '' for a socket
 * none lists.
 */
export function resolveSocketTypes(
  procRoot: string,
  pids: readonly number[],
  types: string[],
): Promise<string[]> {
  const wanted = new Set(types.filter((t) => t.startsWith('socket:')).map((t) => t.slice(7)));
  if (wanted.size === 0) return Promise.resolve(types);
  const found = new Map<string, string>();
  for (const { file, type, inodeColumn } of SOCKET_TABLES) {
    let text: string | undefined;
    for (const pid of pids) {
      try {
        // Synchronously, as the other procfs reads (see procfs/process.ts).
        text = readFileSync(join(procRoot, String(pid), 'net', file), 'utf8');
        break;
      } catch {
        // Gone, or no such table (no IPv6): try the next pid, then the next table.
      }
    }
    if (text === undefined) continue;
    const inodes = socketInodes(text, inodeColumn);
    for (const inode of wanted) {
      if (inodes.has(inode)) {
        found.set(inode, type);
        wanted.delete(inode);
      }
    }
    if (wanted.size === 0) break;
  }
  return Promise.resolve(
    types.map((t) => (t.startsWith('socket:') ? (found.get(t.slice(7)) ?? '') : t)),
  );
}
