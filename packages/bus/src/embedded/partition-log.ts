import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { BusRecord } from '../types.js';
import { fsyncDirectory, readAt, writeAllAt } from './fs-util.js';
import {
  FrameStatus,
  announcedFrameSize,
  checkFrame,
  decodeFrame,
  describeFrameStatus,
  frameOffset,
} from './record-format.js';
import {
  Segment,
  SparseIndex,
  corruptRecordError,
  hasValidRecordAfter,
  parseSegmentFileName,
  scanSegment,
  segmentFileName,
} from './segment.js';

/**
 * One produce call waiting for its records to become durable. It may span several partitions;
 * it settles once every partition it touched has flushed (or failed).
 */
export class ProduceTicket<T> {
  private error: unknown;
  private remaining: number;
  private readonly value: T;
  private readonly resolve: (value: T) => void;
  private readonly reject: (err: unknown) => void;

  constructor(
    partitions: number,
    value: T,
    resolve: (value: T) => void,
    reject: (err: unknown) => void,
  ) {
    this.remaining = partitions;
    this.value = value;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** One partition of the call is durable, or failed with `err`. */
  partitionDone(err?: unknown): void {
    if (err !== undefined && this.error === undefined) this.error = err;
    if (--this.remaining > 0) return;
    if (this.error === undefined) this.resolve(this.value);
    else this.reject(this.error);
  }
}

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  /** The partition's directory. */
  dir: string;
  segmentBytes: number;
  fsync: boolean;
  retentionMs: number;
  retentionBytes: number;
  logger: Logger;
}

/** Where the next read of a partition may start without a lookup. */
export interface ReadHint {
  segmentBase: number;
  offset: number;
  position: number;
}

export interface ReadResult {
  records: BusRecord[];
  hint: ReadHint | undefined;
}

/** Smallest and largest read from a segment file at once: 16 KiB and 4 MiB. */
const MIN_READ_BYTES = 16 * 1024;
const MAX_READ_BYTES = 4 * 1024 * 1024;

/**
 * One partition's log: append-only segment files, a group-commit flusher and reads of durable
 * records. Offsets are dense; `nextOffset` counts records handed to `append`, `high` only the
 * durable ones, which are the only ones readers ever see.
 */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** Offset the next appended record gets (durable and pending records before it). */
  nextOffset: number;
  private readonly segments: Segment[];
  private readonly options: PartitionLogOptions;
  private readonly log: Logger;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingFirstOffsets: number[] = [];
  private pendingTickets: ProduceTicket<unknown>[] = [];
  private flushing = false;
  private flushScheduled = false;
  private needsRepair = false;
  private idleWaiters: (() => void)[] = [];
  private readonly listeners = new Set<() => void>();
  /** Running average of a record's size on disk, to size reads. */
  private averageFrameBytes = 512;

  private constructor(options: PartitionLogOptions, segments: Segment[]) {
    this.options = options;
    this.topic = options.topic;
    this.partition = options.partition;
    this.log = options.logger;
    this.segments = segments;
    this.nextOffset = segments.at(-1)!.nextOffset;
  }

  /**
   * Opens (or creates) a partition directory, recovering its last segment: a torn tail is cut
   * off and logged; damage followed by valid records fails.
   * @throws MamoriError BusCorrupt when recovery would have to drop records after damage.
   */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    await mkdir(options.dir, { recursive: true });
    const bases = (await readdir(options.dir))
      .map(parseSegmentFileName)
      .filter((base): base is number => base !== undefined)
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    if (bases.length === 0) {
      const file = join(options.dir, segmentFileName(0));
      const writer = await open(file, 'w+');
      if (options.fsync) await fsyncDirectory(options.dir);
      const segment = new Segment(file, 0, {
        size: 0,
        nextOffset: 0,
        lastAppendMs: Date.now(),
        index: new SparseIndex(),
      });
      segment.writer = writer;
      segments.push(segment);
      return new PartitionLog(options, segments);
    }
    for (let i = 0; i < bases.length - 1; i++) {
      const file = join(options.dir, segmentFileName(bases[i]!));
      const info = await stat(file);
      segments.push(
        new Segment(file, bases[i]!, {
          size: info.size,
          nextOffset: bases[i + 1]!,
          lastAppendMs: info.mtimeMs,
        }),
      );
    }
    segments.push(await recoverActiveSegment(options, bases.at(-1)!));
    return new PartitionLog(options, segments);
  }

  /** First readable offset. */
  get low(): number {
    return this.segments[0]!.baseOffset;
  }

  /** Offset after the last durable record. */
  get high(): number {
    return this.segments.at(-1)!.nextOffset;
  }

  /** Bytes of durable records in all segments. */
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Calls `listener` whenever new records become durable. */
  addListener(listener: () => void): void {
    this.listeners.add(listener);
  }

  removeListener(listener: () => void): void {
    this.listeners.delete(listener);
  }

  /**
   * Queues encoded records (offsets `firstOffset`…, already counted in `nextOffset`) for the
   * next flush; `ticket` learns when they are durable.
   */
  append(chunk: Buffer, firstOffset: number, ticket: ProduceTicket<unknown>): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.pendingFirstOffsets.push(firstOffset);
    this.pendingTickets.push(ticket);
    if (!this.flushing && !this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate rather than a microtask: produce calls arriving in the same I/O phase
      // (several gRPC messages read at once) join this flush instead of waiting for the next.
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flushLoop();
      });
    }
  }

  /** Resolves when every queued record has been flushed or failed. */
  idle(): Promise<void> {
    if (!this.flushing && !this.flushScheduled && this.pending.length === 0)
      return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async flushLoop(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const chunks = this.pending;
        const bytes = this.pendingBytes;
        const firstOffsets = this.pendingFirstOffsets;
        const tickets = this.pendingTickets;
        const endOffset = this.nextOffset;
        this.pending = [];
        this.pendingBytes = 0;
        this.pendingFirstOffsets = [];
        this.pendingTickets = [];
        let error: MamoriError | undefined;
        try {
          await this.write(chunks, bytes, firstOffsets, endOffset);
        } catch (err) {
          error = this.failWrite(err);
        }
        if (error !== undefined) {
          for (const ticket of tickets) ticket.partitionDone(error);
        } else {
          for (const ticket of tickets) ticket.partitionDone();
          for (const listener of this.listeners) listener();
        }
      }
    } finally {
      this.flushing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  /** Writes one flush to the active segment (rolling first if it is full) and fsyncs it. */
  private async write(
    chunks: Buffer[],
    bytes: number,
    firstOffsets: number[],
    endOffset: number,
  ): Promise<void> {
    if (this.needsRepair) await this.repair();
    let segment = this.segments.at(-1)!;
    // Roll only between flushes, so that one flush never spans two files and only the last
    // segment can ever have a torn tail.
    if (segment.size > 0 && segment.size + bytes > this.options.segmentBytes) {
      segment = await this.roll(firstOffsets[0]!);
    }
    const writer = segment.writer!;
    await writeAllAt(writer, chunks, bytes, segment.size);
    if (this.options.fsync) await writer.datasync();
    let position = segment.size;
    const index = segment.index!;
    for (let i = 0; i < chunks.length; i++) {
      index.maybeAdd(firstOffsets[i]!, position);
      position += chunks[i]!.length;
    }
    const records = endOffset - firstOffsets[0]!;
    this.averageFrameBytes = Math.max(
      1,
      Math.round((this.averageFrameBytes + bytes / records) / 2),
    );
    segment.size = position;
    segment.nextOffset = endOffset;
    segment.lastAppendMs = Date.now();
  }

  /**
   * After a failed write nothing queued is acknowledged, and everything queued behind it was
   * numbered after it: all of it fails, numbering restarts at the durable end, and the file is
   * cut back to its durable size before the next write.
   */
  private failWrite(err: unknown): MamoriError {
    const segment = this.segments.at(-1)!;
    const error = new MamoriError(
      ErrorCode.BusUnavailable,
      'the embedded log could not make records durable',
      {
        retriable: true,
        cause: err,
        context: { topic: this.topic, partition: this.partition, file: segment.file },
      },
    );
    this.log.error(
      { err, topic: this.topic, partition: this.partition, file: segment.file },
      'embedded log write failed; the waiting produce calls were rejected',
    );
    const queued = this.pendingTickets;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFirstOffsets = [];
    this.pendingTickets = [];
    this.nextOffset = this.high;
    this.needsRepair = true;
    for (const ticket of queued) ticket.partitionDone(error);
    return error;
  }

  private async repair(): Promise<void> {
    const segment = this.segments.at(-1)!;
    await segment.writer!.truncate(segment.size);
    if (this.options.fsync) await segment.writer!.datasync();
    this.needsRepair = false;
  }

  private async roll(baseOffset: number): Promise<Segment> {
    const file = join(this.options.dir, segmentFileName(baseOffset));
    // 'w+': a file of that name can only be the empty leftover of a roll that failed.
    const writer = await open(file, 'w+');
    try {
      // The new file's directory entry must be durable before records in it are acknowledged.
      if (this.options.fsync) await fsyncDirectory(this.options.dir);
    } catch (err) {
      await writer.close();
      throw err;
    }
    const previous = this.segments.at(-1)!;
    const segment = new Segment(file, baseOffset, {
      size: 0,
      nextOffset: baseOffset,
      lastAppendMs: Date.now(),
      index: new SparseIndex(),
    });
    segment.writer = writer;
    this.segments.push(segment);
    await previous.retire();
    this.applyRetention(Date.now());
    return segment;
  }

  /**
   * Deletes whole closed segments beyond the size limit or older than the age limit (by the
   * time they were last appended to — not by record timestamps, which agents supply and which
   * must not be able to delete data early). The active segment is never deleted.
   */
  applyRetention(now: number): void {
    const { retentionBytes, retentionMs } = this.options;
    let total = this.sizeBytes;
    while (this.segments.length > 1) {
      const first = this.segments[0]!;
      // Kafka's rule: delete while what remains still holds at least retentionBytes.
      const bySize = retentionBytes >= 0 && total - first.size >= retentionBytes;
      const byAge = retentionMs >= 0 && now - first.lastAppendMs > retentionMs;
      if (!bySize && !byAge) break;
      this.segments.shift();
      total -= first.size;
      this.log.info(
        {
          topic: this.topic,
          partition: this.partition,
          file: first.file,
          baseOffset: first.baseOffset,
          nextOffset: first.nextOffset,
          reason: bySize ? 'size' : 'age',
        },
        'retention deleted a segment',
      );
      unlink(first.file).catch((err: unknown) => {
        this.log.warn({ err, file: first.file }, 'could not delete a segment file');
      });
    }
  }

  /**
   * Reads up to `maxRecords` durable records from `from` (from the first readable offset when
   * `from` is below it), all from one segment.
   * @throws MamoriError BusCorrupt when a record fails verification (with file and position).
   */
  async read(from: number, maxRecords: number, hint?: ReadHint): Promise<ReadResult> {
    const start = Math.max(from, this.low);
    const high = this.high;
    if (start >= high || maxRecords <= 0) return { records: [], hint: undefined };
    const segment = this.segmentFor(start);
    let offset: number;
    let position: number;
    if (hint !== undefined && hint.segmentBase === segment.baseOffset && hint.offset === start) {
      ({ offset, position } = hint);
    } else if (start === segment.baseOffset) {
      offset = start;
      position = 0;
    } else {
      ({ offset, position } = (await this.indexOf(segment)).floor(start, segment.baseOffset));
    }
    // Snapshot the bounds: the segment may grow meanwhile, but only up to what is durable now.
    const endBytes = segment.size;
    const endOffset = Math.min(segment.nextOffset, high);
    return segment.withReadHandle(async (handle) => {
      const records: BusRecord[] = [];
      let expected = offset;
      let pos = position;
      let minRead = 0;
      while (records.length < maxRecords && expected < endOffset && pos < endBytes) {
        const estimate = (maxRecords - records.length) * this.averageFrameBytes + 1024;
        const want = Math.max(
          minRead,
          Math.min(MAX_READ_BYTES, Math.max(MIN_READ_BYTES, estimate)),
        );
        const length = Math.min(endBytes - pos, want);
        const buf = Buffer.allocUnsafe(length);
        const read = await readAt(handle, buf, length, pos);
        let p = 0;
        while (p < read && records.length < maxRecords && expected < endOffset) {
          const size = checkFrame(buf, p, read);
          if (size === FrameStatus.Incomplete && pos + read < endBytes) {
            const announced = announcedFrameSize(buf, p, read);
            if (p === 0) minRead = announced; // one record larger than the read
            break;
          }
          if (size < 0) throw this.corrupt(segment, pos + p, expected, describeFrameStatus(size));
          if (frameOffset(buf, p) !== expected) {
            throw this.corrupt(segment, pos + p, expected, 'unexpected offset');
          }
          if (expected >= start) {
            try {
              records.push(decodeFrame(buf, p, this.topic, this.partition));
            } catch (err) {
              throw this.corrupt(segment, pos + p, expected, (err as Error).message);
            }
          }
          expected++;
          p += size;
        }
        if (p === 0 && minRead <= read) {
          throw this.corrupt(segment, pos, expected, 'record does not fit the segment');
        }
        pos += p;
      }
      if (records.length === 0 && expected < endOffset) {
        throw this.corrupt(segment, pos, expected, 'segment ends before its last record');
      }
      return {
        records,
        hint: { segmentBase: segment.baseOffset, offset: expected, position: pos },
      };
    });
  }

  private corrupt(segment: Segment, position: number, offset: number, reason: string): MamoriError {
    const error = corruptRecordError({
      topic: this.topic,
      partition: this.partition,
      file: segment.file,
      position,
      offset,
      reason,
    });
    this.log.error(
      { err: error, ...error.context },
      'a record in the embedded log failed verification',
    );
    return error;
  }

  private segmentFor(offset: number): Segment {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return segments[lo]!;
  }

  /** The segment's index, built by verifying the whole file the first time it is needed. */
  private async indexOf(segment: Segment): Promise<SparseIndex> {
    if (segment.index !== undefined) return segment.index;
    const scan = await segment.withReadHandle((handle) => scanSegment(handle, segment.baseOffset));
    if (scan.damage !== undefined) {
      throw this.corrupt(segment, scan.damage.position, scan.nextOffset, scan.damage.reason);
    }
    if (scan.nextOffset !== segment.nextOffset || scan.validBytes !== segment.size) {
      throw this.corrupt(
        segment,
        scan.validBytes,
        scan.nextOffset,
        'segment ends before the next segment',
      );
    }
    segment.index = scan.index;
    return scan.index;
  }

  /** Flushes what is queued and closes the files. */
  async close(): Promise<void> {
    await this.idle();
    this.listeners.clear();
    for (const segment of this.segments) await segment.retire();
  }
}

/**
 * Scans the last segment of a partition: cuts off a torn tail (logging file, position and what
 * was dropped), refuses damage followed by valid records, and fsyncs what remains — a crashed
 * process may have left records in the page cache that never reached the disk.
 */
async function recoverActiveSegment(
  options: PartitionLogOptions,
  baseOffset: number,
): Promise<Segment> {
  const file = join(options.dir, segmentFileName(baseOffset));
  const writer = await open(file, 'r+');
  try {
    const scan = await scanSegment(writer, baseOffset);
    if (scan.damage !== undefined) {
      const { position, reason } = scan.damage;
      if (await hasValidRecordAfter(writer, position, scan.fileSize, scan.nextOffset)) {
        throw corruptRecordError({
          topic: options.topic,
          partition: options.partition,
          file,
          position,
          offset: scan.nextOffset,
          reason,
        });
      }
      options.logger.warn(
        {
          topic: options.topic,
          partition: options.partition,
          file,
          position,
          offset: scan.nextOffset,
          truncatedBytes: scan.fileSize - position,
          reason,
        },
        'truncated a torn tail of the embedded log',
      );
      await writer.truncate(position);
    }
    if (options.fsync) await writer.datasync();
    const segment = new Segment(file, baseOffset, {
      size: scan.validBytes,
      nextOffset: scan.nextOffset,
      lastAppendMs: (await writer.stat()).mtimeMs,
      index: scan.index,
    });
    segment.writer = writer;
    return segment;
  } catch (err) {
    await writer.close();
    throw err;
  }
}
