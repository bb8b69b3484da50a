import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

/** Receives one line and where it came from (a file, a stream, an HTTP request). */
export type LineHandler = (line: string, where: LineOrigin) => void;

export interface LineOrigin {
  /** The file's path, `stdin`, or `http`. */
  source: string;
  /** 1-based line number within what was read from the source (or within the request). */
  line: number;
  /** For HTTP: the request's number since the listener started. */
  request?: number;
}

/** A started source of lines; close() stops reading and releases it. */
export interface LineSource {
  close(): Promise<void>;
  /** The listener's address, for an HTTP source. */
  address?: AddressInfo;
}

/** Longest line kept, in bytes: longer ones are reported as bad, not buffered without bound. */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface TailOptions {
  path: string;
  /** Read what the file already holds first; otherwise start at its end, as `tail -f`. @default false */
  fromStart?: boolean;
  /** How often the file is checked for growth and rotation, in milliseconds. @default 250 */
  pollMs?: number;
  /** Called for a line over MAX_LINE_BYTES (dropped) and for read errors. */
  onProblem: (problem: string, where: LineOrigin) => void;
}

/**
 * Follows a file as `tail -F` does: reads what is appended, and when the file is rotated
 * (renamed away and a new one created, or truncated) finishes the old one and goes on with
 * the new one from its start. Polls (no inotify), so it works on any filesystem.
 */
export async function tailFile(options: TailOptions, onLine: LineHandler): Promise<LineSource> {
  const pollMs = options.pollMs ?? 250;
  let handle: FileHandle | undefined;
  let ino = -1;
  let position = 0;
  let lineNo = 0;
  let partial = Buffer.alloc(0);
  let overlong = false;
  const buffer = Buffer.alloc(64 * 1024);
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function drain(): Promise<void> {
    if (!handle) return;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      let chunk = buffer.subarray(0, bytesRead);
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10)) {
        const piece = chunk.subarray(0, nl);
        chunk = chunk.subarray(nl + 1);
        lineNo++;
        if (overlong || partial.length + piece.length > MAX_LINE_BYTES) {
          options.onProblem('line longer than the limit, dropped', {
            source: options.path,
            line: lineNo,
          });
        } else {
          const line = Buffer.concat([partial, piece]).toString('utf8');
          if (line.trim() !== '') onLine(line, { source: options.path, line: lineNo });
        }
        partial = Buffer.alloc(0);
        overlong = false;
      }
      if (partial.length + chunk.length > MAX_LINE_BYTES) {
        overlong = true;
        partial = Buffer.alloc(0);
      } else if (chunk.length > 0) partial = Buffer.concat([partial, chunk]);
    }
  }

  async function check(first: boolean): Promise<void> {
    const info = await stat(options.path).catch(() => undefined);
    if (info && info.ino !== ino) {
      // Rotated (or first open): finish the old file, then read the new one from its start.
      await drain();
      await handle?.close();
      handle = await open(options.path, 'r');
      position = first && !options.fromStart ? info.size : 0;
      ino = info.ino;
      lineNo = 0;
      partial = Buffer.alloc(0);
    } else if (info && info.size < position) {
      position = 0; // truncated in place (copytruncate)
      lineNo = 0;
      partial = Buffer.alloc(0);
    }
    await drain();
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => {
      running = check(false)
        .catch((err: unknown) =>
          options.onProblem(`read failed: ${String(err)}`, { source: options.path, line: lineNo }),
        )
        .finally(schedule);
    }, pollMs);
  }

  await check(true);
  schedule();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
      await handle?.close();
    },
  };
}

/** Reads lines from a stream (stdin, a named pipe) until it ends or is closed. */
export function readLines(stream: Readable, source: string, onLine: LineHandler): LineSource {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  lines.on('line', (line) => {
    lineNo++;
    if (line.trim() !== '') onLine(line, { source, line: lineNo });
  });
  return {
    close() {
      lines.close();
      return Promise.resolve();
    },
  };
}

export interface HttpLinesOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 2801 */
  port?: number;
  /** Largest request body, in bytes; a larger one is refused with 413. @default 1 MiB */
  maxBodyBytes?: number;
}

/**
 * An HTTP listener for Falco's `http_output`: each POST carries one JSON alert (or several,
 * one a line). Answers 200 when at least one line was taken, 400 when none was, 413 for a
 * body over the limit and 405 for anything but POST.
 */
export async function listenHttp(
  options: HttpLinesOptions,
  onLine: (line: string, where: LineOrigin) => boolean,
): Promise<LineSource> {
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      req.resume();
      return;
    }
    const request = ++requests;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      res.writeHead(413, { connection: 'close' }).end();
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      let taken = 0;
      Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.trim() !== '' && onLine(line, { source: 'http', line: i + 1, request })) taken++;
        });
      res.writeHead(taken > 0 ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 2801, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
