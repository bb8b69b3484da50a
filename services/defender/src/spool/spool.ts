import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MamoriError } from '@mamori/common';
import { processStartTime } from '../procfs/index.js';
import { lockSpool, type SpoolLock } from './lock.js';
import { crc32 } from 'node:zlib';
import { randomUUID } from 'node:crypto';

/** A batch as the spool keeps it: its sequence and the encoded `mamori.v1.EventBatch`. */
export interface SpooledBatch {
  sequence: number;
  bytes: Buffer;
}

/** What the spool holds now. */
export interface SpoolStats {
  /** Bytes of the segment files (acknowledged batches in a segment not yet removed included). */
  bytes: number;
  /** Batches not yet acknowledged. */
  pending: number;
  /** The highest acknowledged sequence (0 for none). */
  acked: number;
  /** The sequence the next batch gets. */
  nextSequence: number;
}

/**
 * The defender's offline spool: every batch is appended here before it is sent and stays until
 * ingest acknowledges it, so batches survive a platform outage and an agent restart and are
 * sent again in order. Sequence numbers are the spool's: they grow by one per batch over the
 * agent's lifetime, across restarts.
 */
export interface Spool {
  /**
   * Appends a batch (the encoded `EventBatch` built by `encode` for the sequence given) and
   * resolves with its sequence; resolves undefined, writing nothing, when it would not fit in
   * `maxBytes`.
   */
  append(encode: (sequence: number) => Buffer): Promise<number | undefined>;
  /** The pending batches after `sequence`, in order, at most `limit` of them. */
  read(after: number, limit: number): Promise<SpooledBatch[]>;
  /** Acknowledges every batch up to `sequence`; removes segments that hold nothing else. */
  ack(sequence: number): Promise<void>;
  /**
   * Makes the next batch's sequence at least `sequence + 1` (ingest remembers later batches
   * than this spool wrote). Batches pending at or below it are acknowledged with it.
   */
  advance(sequence: number): Promise<void>;
  /** Whether a batch of `bytes` more would fit now. */
  fits(bytes: number): boolean;
  /**
   * Names this spool's sequence numbering: a random id made when the spool was created and
   * kept in its directory. The agent sends it in its hello, so that ingest can tell a
   * reconnect of this agent from another agent configured with the same id.
   */
  readonly instanceId: string;
  stats(): SpoolStats;
  close(): Promise<void>;
}

export interface SpoolOptions {
  dir: string;
  /** Most bytes of segment files. */
  maxBytes: number;
  /**
   * A new segment file begins past this size, in bytes; whole segments are removed once
   * acknowledged. @default 4 MiB (or maxBytes / 8 when smaller: a full spool still frees
   * room as batches are acknowledged)
   */
  segmentBytes?: number;
  /**
   * Whether the directory is locked for this process (`spool.lock`): two agents on one spool
   * would interleave their batches. @default true
   */
  lock?: boolean;
}

/** Start time of a live process from /proc, for the lock. */
function startTimeOf(pid: number): Promise<number | undefined> {
  return processStartTime(pid);
}

/** Record header: length (u32), CRC-32 of the rest (u32), sequence (u64). */
const HEADER = 16;
const STATE_FILE = 'state.json';
const INSTANCE_FILE = 'instance';
const INSTANCE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEGMENT = /^segment-(\d{20})\.log$/;

interface Entry {
  sequence: number;
  segment: Segment;
  /** Where the record's body starts, and its length. */
  position: number;
  length: number;
}

interface Segment {
  name: string;
  firstSequence: number;
  lastSequence: number;
  size: number;
}

const segmentName = (first: number) => `segment-${String(first).padStart(20, '0')}.log`;

/**
 * The spool's instance id from its `instance` file; a new one, written there (whole, through a
 * temporary file), when the file is missing or holds anything else.
 */
async function readInstanceId(dir: string): Promise<string> {
  const path = join(dir, INSTANCE_FILE);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (INSTANCE_ID.test(text)) return text;
  } catch {
    // A new spool, or one from before instance ids.
  }
  const id = randomUUID();
  try {
    await writeFile(`${path}.tmp`, `${id}\n`);
    await rename(`${path}.tmp`, path);
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `the spool directory ${dir} cannot be written`, {
      cause: err,
      context: { dir },
    });
  }
  return id;
}

/**
 * Opens (or creates) the spool in `dir`. A torn record at the end of the last segment (an agent
 * killed mid-write) is cut off: everything before it is kept.
 * @throws MamoriError Config when the directory cannot be created or read.
 */
export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, maxBytes } = options;
  const segmentBytes =
    options.segmentBytes ??
    Math.min(4 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxBytes / 8)));
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `the spool directory ${dir} cannot be created`, {
      cause: err,
      context: { dir },
    });
  }
  let lock: SpoolLock | undefined;
  if (options.lock !== false) {
    const start = (await startTimeOf(process.pid)) ?? 0;
    lock = await lockSpool(dir, { pid: process.pid, start }, startTimeOf);
  }
  const instanceId = await readInstanceId(dir);
  let acked = 0;
  let nextSequence = 1;
  try {
    const state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as {
      acked?: unknown;
      nextSequence?: unknown;
    };
    if (Number.isSafeInteger(state.acked)) acked = Number(state.acked);
    if (Number.isSafeInteger(state.nextSequence)) nextSequence = Number(state.nextSequence);
  } catch {
    // No state yet (a new spool), or a torn one: the segments say the rest.
  }
  const segments: Segment[] = [];
  const entries: Entry[] = [];
  const names = (await readdir(dir)).filter((n) => SEGMENT.test(n)).sort();
  for (const name of names) {
    const path = join(dir, name);
    const data = await readFile(path);
    const segment: Segment = {
      name,
      firstSequence: Number(SEGMENT.exec(name)![1]),
      lastSequence: 0,
      size: 0,
    };
    let at = 0;
    while (at + HEADER <= data.length) {
      const length = data.readUInt32LE(at);
      const end = at + HEADER + length;
      if (end > data.length) break;
      if (crc32(data.subarray(at + 8, end)) !== data.readUInt32LE(at + 4)) break;
      const sequence = Number(data.readBigUInt64LE(at + 8));
      if (sequence > acked) entries.push({ sequence, segment, position: at + HEADER, length });
      segment.lastSequence = sequence;
      at = end;
    }
    if (at < data.length) {
      // A torn tail: only the last segment can have one, written when the agent stopped.
      const handle = await open(path, 'r+');
      await handle.truncate(at);
      await handle.close();
    }
    segment.size = at;
    if (segment.lastSequence === 0 || segment.lastSequence <= acked) {
      await rm(path, { force: true });
      continue;
    }
    segments.push(segment);
    nextSequence = Math.max(nextSequence, segment.lastSequence + 1);
  }
  nextSequence = Math.max(nextSequence, acked + 1);
  let bytes = segments.reduce((sum, s) => sum + s.size, 0);
  let writer: { segment: Segment; handle: FileHandle } | undefined;
  let stateWrite: Promise<void> = Promise.resolve();
  let appending: Promise<unknown> = Promise.resolve();

  async function saveState(): Promise<void> {
    const text = JSON.stringify({ acked, nextSequence });
    const run = stateWrite.then(async () => {
      const temp = join(dir, `${STATE_FILE}.tmp`);
      await writeFile(temp, text);
      await rename(temp, join(dir, STATE_FILE));
    });
    stateWrite = run.catch(() => undefined);
    await run;
  }

  async function doAppend(encode: (sequence: number) => Buffer): Promise<number | undefined> {
    const sequence = nextSequence;
    const body = encode(sequence);
    const record = Buffer.allocUnsafe(HEADER + body.length);
    record.writeUInt32LE(body.length, 0);
    record.writeBigUInt64LE(BigInt(sequence), 8);
    body.copy(record, HEADER);
    record.writeUInt32LE(crc32(record.subarray(8)), 4);
    if (bytes + record.length > maxBytes) return undefined;
    if (writer === undefined || writer.segment.size >= segmentBytes) {
      await writer?.handle.close();
      const segment: Segment = {
        name: segmentName(sequence),
        firstSequence: sequence,
        lastSequence: sequence,
        size: 0,
      };
      writer = { segment, handle: await open(join(dir, segment.name), 'a') };
      segments.push(segment);
    }
    const { segment, handle } = writer;
    // Not fsynced: a crashed agent keeps what it wrote (the page cache outlives it); a crashed
    // node loses its last batches, as it loses the events it had not observed yet.
    await handle.write(record);
    entries.push({ sequence, segment, position: segment.size + HEADER, length: body.length });
    segment.size += record.length;
    segment.lastSequence = sequence;
    bytes += record.length;
    nextSequence = sequence + 1;
    return sequence;
  }

  async function ack(sequence: number): Promise<void> {
    if (sequence <= acked) return;
    acked = Math.min(sequence, nextSequence - 1);
    let drop = 0;
    while (drop < entries.length && entries[drop]!.sequence <= acked) drop++;
    entries.splice(0, drop);
    while (segments.length > 0 && segments[0]!.lastSequence <= acked) {
      const segment = segments[0]!;
      if (writer?.segment === segment) {
        await writer.handle.close();
        writer = undefined;
      }
      segments.shift();
      bytes -= segment.size;
      await rm(join(dir, segment.name), { force: true });
    }
    await saveState();
  }

  return {
    append(encode) {
      // One at a time: sequences are given in file order.
      const run = appending.then(() => doAppend(encode));
      appending = run.catch(() => undefined);
      return run;
    },
    async read(after, limit) {
      const out: SpooledBatch[] = [];
      let handle: FileHandle | undefined;
      let openName = '';
      try {
        for (const entry of entries) {
          if (entry.sequence <= after) continue;
          if (out.length >= limit) break;
          if (openName !== entry.segment.name) {
            await handle?.close();
            handle = await open(join(dir, entry.segment.name), 'r');
            openName = entry.segment.name;
          }
          const bytes = Buffer.allocUnsafe(entry.length);
          await handle!.read(bytes, 0, entry.length, entry.position);
          out.push({ sequence: entry.sequence, bytes });
        }
      } finally {
        await handle?.close();
      }
      return out;
    },
    ack,
    async advance(sequence) {
      await appending;
      if (sequence < nextSequence) return;
      nextSequence = sequence + 1;
      // Everything up to `sequence` is acknowledged with it; ack saves the state.
      await ack(sequence);
    },
    fits: (size) => bytes + HEADER + size <= maxBytes,
    instanceId,
    stats: () => ({ bytes, pending: entries.length, acked, nextSequence }),
    async close() {
      await appending;
      await saveState();
      await writer?.handle.close();
      writer = undefined;
      await lock?.release();
      lock = undefined;
    },
  };
}
