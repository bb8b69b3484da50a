import { createHash } from 'node:crypto';
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import type { Sensor, SensorContext, SensorStatus } from '../sensor.js';

/** Files and directories whose changes are reported when no list is configured. */
export const DEFAULT_SENSITIVE_PATHS: readonly string[] = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/gshadow',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/pam.d',
  '/etc/ld.so.preload',
  '/etc/crontab',
  '/etc/cron.d',
  '/etc/ssh/sshd_config',
  '/etc/ssl/certs',
  '/root/.ssh',
  '/usr/local/bin',
  '/usr/local/sbin',
];

export interface FileSensorOptions {
  /** Files and directories (with everything under them) to watch. @default DEFAULT_SENSITIVE_PATHS */
  paths?: readonly string[];
  /** Largest file hashed after a write, in bytes; bigger ones get no content_hash. @default 16 MiB */
  maxHashBytes?: number;
  /**
   * How long a path must stay quiet before its changes are reported, in milliseconds: one
   * write(2) of a large file raises many inotify events, and a rename raises two that are
   * paired within this window. @default 100
   */
  settleMs?: number;
}

export interface FileSensor extends Sensor {
  /** The directories watched (resolved), for tests and status pages. */
  watched(): string[];
}

/** 16 MiB: hashes a certificate bundle or a binary dropped in /usr/local/bin; bounds I/O. */
const DEFAULT_MAX_HASH_BYTES = 16 * 1024 * 1024;
const DEFAULT_SETTLE_MS = 100;
/** However busy a path, its changes are reported at least this often, in milliseconds. */
const MAX_DELAY_MS = 1000;

interface Change {
  path: string;
  /** inotify's create, delete or move (fs.watch's `rename`), rather than only a modify. */
  renamed: boolean;
}

/**
 * The file sensor: writes, renames and deletes under sensitive paths, from inotify through
 * `fs.watch`. A file is watched through its directory (editors and package managers replace
 * files by renaming a new one over them, which a watch on the file itself would lose); a
 * directory recursively. inotify does not say which process made a change: events carry no
 * process.
 */
export function createFileSensor(options: FileSensorOptions = {}): FileSensor {
  const sensitive = (options.paths ?? DEFAULT_SENSITIVE_PATHS).map((p) => resolve(p));
  const maxHashBytes = options.maxHashBytes ?? DEFAULT_MAX_HASH_BYTES;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const watchers = new Map<string, FSWatcher>();
  let context: SensorContext | undefined;
  let log: Logger | undefined;
  let pending: Change[] = [];
  let timer: NodeJS.Timeout | undefined;
  let firstPendingAt = 0;
  let flushing: Promise<void> = Promise.resolve();

  function isSensitive(path: string): boolean {
    return sensitive.some((s) => path === s || path.startsWith(s.endsWith(sep) ? s : s + sep));
  }

  function onChange(dir: string, type: string, filename: string | Buffer | null): void {
    if (filename === null) return; // the kernel's queue overflowed: the name is lost
    const path = join(dir, filename.toString());
    pending.push({ path, renamed: type === 'rename' });
    if (pending.length === 1) firstPendingAt = Date.now();
    if (timer) clearTimeout(timer);
    const wait = Math.min(settleMs, Math.max(0, firstPendingAt + MAX_DELAY_MS - Date.now()));
    timer = setTimeout(() => {
      timer = undefined;
      const batch = pending;
      pending = [];
      flushing = flushing
        .then(() => flush(batch))
        .catch((err: unknown) => {
          log?.warn({ err }, 'file changes could not be reported');
        });
    }, wait);
  }

  async function flush(batch: Change[]): Promise<void> {
    // One entry per path, in the order of its first event.
    const byPath = new Map<string, { renamed: boolean }>();
    for (const change of batch) {
      const entry = byPath.get(change.path) ?? { renamed: false };
      entry.renamed ||= change.renamed;
      byPath.set(change.path, entry);
    }
    const gone: string[] = [];
    const appeared: string[] = [];
    const written: string[] = [];
    for (const [path, { renamed }] of byPath) {
      const exists = await lstat(path).then(
        () => true,
        () => false,
      );
      if (!exists) {
        if (renamed) gone.push(path);
      } else if (renamed) appeared.push(path);
      else written.push(path);
    }
    // fs.watch does not pass inotify's rename cookie: a name that went and one that appeared
    // in the same window are taken as one rename, in order.
    while (gone.length > 0 && appeared.length > 0) {
      const oldPath = gone.shift()!;
      const newPath = appeared.shift()!;
      if (!isSensitive(oldPath) && !isSensitive(newPath)) continue;
      send({ file_rename: { old_path: oldPath, new_path: newPath } });
      // Renaming a file over a sensitive one changes its content: reported as a write too.
      if (isSensitive(newPath)) await sendWrite(newPath);
    }
    for (const path of gone) if (isSensitive(path)) send({ file_delete: { path } });
    for (const path of [...appeared, ...written]) if (isSensitive(path)) await sendWrite(path);
  }

  async function sendWrite(path: string): Promise<void> {
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) return; // a directory created or touched: no content to report
      size = info.size;
    } catch {
      return; // gone again already; its delete comes with the next batch
    }
    const write: NonNullable<Event['file_write']> = { path, bytes_written: size };
    if (size <= maxHashBytes) {
      const hash = await sha256(path, maxHashBytes).catch(() => undefined);
      if (hash) write.content_hash = `sha256:${hash}`;
    }
    send({ file_write: write });
  }

  function send(payload: Pick<Event, 'file_write' | 'file_rename' | 'file_delete'>): void {
    context?.emit(
      { observed_unix_micros: Date.now() * 1000, labels: { sensor: 'file' }, ...payload },
      'high',
    );
  }

  function watchDir(dir: string, recursive: boolean): void {
    const key = `${dir}\0${recursive}`;
    if (watchers.has(key)) return;
    const watcher = watch(dir, { recursive, persistent: false }, (type, name) =>
      onChange(dir, type, name),
    );
    watcher.on('error', (err) => log?.warn({ err, dir }, 'file watch failed, no longer watched'));
    watchers.set(key, watcher);
  }

  return {
    name: 'file',
    watched: () => [...watchers.keys()].map((k) => k.split('\0')[0]!),
    async start(ctx: SensorContext): Promise<SensorStatus> {
      context = ctx;
      log = ctx.logger;
      const missing: string[] = [];
      for (const path of sensitive) {
        const info = await stat(path).catch(() => undefined);
        try {
          if (info?.isDirectory()) watchDir(path, true);
          else if (
            await stat(dirname(path)).then(
              (d) => d.isDirectory(),
              () => false,
            )
          ) {
            watchDir(dirname(path), false);
          } else missing.push(path);
        } catch (err) {
          log.warn({ err, path }, 'sensitive path cannot be watched');
          missing.push(path);
        }
      }
      if (watchers.size === 0) {
        throw new MamoriError(ErrorCode.Config, 'none of the sensitive paths can be watched', {
          context: { paths: sensitive.join(',') },
        });
      }
      return {
        sensor: 'file',
        mode: `inotify (fs.watch) on ${watchers.size} directories`,
        limitations: [
          'the process that made a change is not known (inotify does not say): events carry no process',
          'renames are paired by time (fs.watch gives no rename cookie): a move into a watched path from outside is a write, a move out a delete',
          `bytes_written is the file's size after the change, and files over ${maxHashBytes} bytes get no content hash`,
          'a file whose directory did not exist when the agent started is not watched',
          'changes in the same path within a settle window are reported once',
          ...missing.map((p) => `not watched (no such file or directory): ${p}`),
        ],
      };
    },
    async stop(): Promise<void> {
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = [];
      await flushing;
    },
  };
}

async function sha256(path: string, maxBytes: number): Promise<string> {
  const hash = createHash('sha256');
  // end is inclusive: a file that grew since stat is hashed up to the bound, never beyond.
  for await (const chunk of createReadStream(path, { end: maxBytes - 1 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}
