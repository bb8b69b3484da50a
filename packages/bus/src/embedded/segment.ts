import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, MamoriError } from '@mamori/common';
import { readAt } from './fs-util.js';
import {
  FrameStatus,
  announcedFrameSize,
  checkFrame,
  describeFrameStatus,
  frameOffset,
  RECORD_MAGIC,
  FRAME_HEADER_BYTES,
} from './record-format.js';

/** Digits of a segment file's base offset: Kafka's width, so names sort as numbers. */
const SEGMENT_NAME_DIGITS = 20;
const SEGMENT_NAME = /^(\d{20})\.log$/;

/** File name of the segment whose first record has `baseOffset`. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(SEGMENT_NAME_DIGITS, '0')}.log`;
}

/** The base offset named by a segment file name, or undefined for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * A sparse offset → byte position index of one segment. Reads start at the closest entry at or
 * before the offset they want, so the gap between entries bounds what a read may skip.
 */
export class SparseIndex {
  /** Bytes between entries, 16 KiB: a seek reads at most about that much to skip. */
  static readonly intervalBytes = 16 * 1024;
  private readonly offsets: number[] = [];
  private readonly positions: number[] = [];

  /** Adds an entry if the last one is at least `intervalBytes` before `position`. */
  maybeAdd(offset: number, position: number): void {
    const last = this.positions.at(-1);
    if (last === undefined || position - last >= SparseIndex.intervalBytes) {
      this.offsets.push(offset);
      this.positions.push(position);
    }
  }

  /** The entry with the greatest offset ≤ `offset`; the segment's start when there is none. */
  floor(offset: number, baseOffset: number): { offset: number; position: number } {
    let lo = 0;
    let hi = this.offsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0
      ? { offset: baseOffset, position: 0 }
      : { offset: this.offsets[found]!, position: this.positions[found]! };
  }
}

/** One segment file of a partition: records [baseOffset, nextOffset) in `size` bytes. */
export class Segment {
  /** Bytes of durable, valid records (for the active segment: fsynced bytes). */
  size: number;
  /** Offset after the segment's last durable record. */
  nextOffset: number;
  /** When the segment was last appended to, ms since the epoch (its mtime when opened). */
  lastAppendMs: number;
  /** Built lazily for segments opened from disk; kept up to date by appends. */
  index: SparseIndex | undefined;
  /** Write handle; only the active segment has one. Reads of the active segment share it. */
  writer: FileHandle | undefined;
  private readers = 0;
  private retired = false;

  readonly file: string;
  readonly baseOffset: number;

  constructor(
    file: string,
    baseOffset: number,
    init: { size: number; nextOffset: number; lastAppendMs: number; index?: SparseIndex },
  ) {
    this.file = file;
    this.baseOffset = baseOffset;
    this.size = init.size;
    this.nextOffset = init.nextOffset;
    this.lastAppendMs = init.lastAppendMs;
    this.index = init.index;
  }

  /**
   * Runs `fn` with a handle to read the file: the writer's when there is one (kept open until
   * the read ends even if the segment rolls meanwhile), else a handle of its own. Deleting the
   * file meanwhile is harmless: an open handle keeps its data readable.
   */
  async withReadHandle<T>(fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    const writer = this.writer;
    if (writer !== undefined) {
      this.readers++;
      try {
        return await fn(writer);
      } finally {
        this.readers--;
        if (this.retired && this.readers === 0) await this.closeWriter();
      }
    }
    const handle = await open(this.file, 'r');
    try {
      return await fn(handle);
    } finally {
      await handle.close();
    }
  }

  /** Stops writing to this segment: its handle closes once no read uses it. */
  async retire(): Promise<void> {
    this.retired = true;
    if (this.readers === 0) await this.closeWriter();
  }

  private async closeWriter(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    await writer?.close();
  }
}

/** What a scan of one segment file found. */
export interface ScanOutcome {
  /** Bytes of whole, valid records from the start of the file. */
  validBytes: number;
  /** Offset after the last valid record. */
  nextOffset: number;
  index: SparseIndex;
  fileSize: number;
  /** Where and why the valid prefix ends before the end of the file. */
  damage?: { position: number; reason: string };
}

/** Bytes read at once while scanning, 4 MiB. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Reads a segment from its start and verifies every record (length, checksum, version, dense
 * offsets from `baseOffset`), building its index on the way. Stops at the first problem.
 */
export async function scanSegment(handle: FileHandle, baseOffset: number): Promise<ScanOutcome> {
  const { size: fileSize } = await handle.stat();
  const index = new SparseIndex();
  let position = 0;
  let expected = baseOffset;
  let buf = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(fileSize, 1)));
  while (position < fileSize) {
    const length = Math.min(buf.length, fileSize - position);
    const read = await readAt(handle, buf, length, position);
    let p = 0;
    while (p < read) {
      const size = checkFrame(buf, p, read);
      if (size === FrameStatus.Incomplete) {
        const announced = announcedFrameSize(buf, p, read);
        if (position + p + Math.max(announced, FRAME_HEADER_BYTES) > fileSize) {
          return outcome(position + p, describeFrameStatus(size));
        }
        if (p === 0) buf = Buffer.allocUnsafe(announced); // one record larger than the buffer
        break;
      }
      if (size < 0) return outcome(position + p, describeFrameStatus(size));
      if (frameOffset(buf, p) !== expected) return outcome(position + p, 'unexpected offset');
      index.maybeAdd(expected, position + p);
      expected++;
      p += size;
    }
    position += p;
  }
  return { validBytes: position, nextOffset: expected, index, fileSize };

  function outcome(at: number, reason: string): ScanOutcome {
    return {
      validBytes: at,
      nextOffset: expected,
      index,
      fileSize,
      damage: { position: at, reason },
    };
  }
}

/**
 * Whether a valid record with an offset ≥ `minOffset` starts anywhere after `from`. A torn tail
 * (a write cut short by a crash) leaves nothing valid behind the damage; damage followed by valid
 * records is corruption of data that was acknowledged, which must never be cut off silently.
 */
export async function hasValidRecordAfter(
  handle: FileHandle,
  from: number,
  fileSize: number,
  minOffset: number,
): Promise<boolean> {
  const rest = fileSize - from;
  if (rest <= FRAME_HEADER_BYTES) return false;
  const buf = Buffer.allocUnsafe(rest);
  const read = await readAt(handle, buf, rest, from);
  const magicAt = FRAME_HEADER_BYTES;
  // Start after the damaged frame's first byte; check cheap fields before the checksum.
  for (let p = 1; p + FRAME_HEADER_BYTES < read; p++) {
    if (buf[p + magicAt] !== RECORD_MAGIC) continue;
    const announced = announcedFrameSize(buf, p, read);
    if (announced < 0 || p + announced > read) continue;
    if (checkFrame(buf, p, read) < 0) continue;
    if (frameOffset(buf, p) >= minOffset) return true;
  }
  return false;
}

/** The error for a record that fails verification where data must not be dropped. */
export function corruptRecordError(context: {
  topic: string;
  partition: number;
  file: string;
  position: number;
  offset: number;
  reason: string;
}): MamoriError {
  return new MamoriError(ErrorCode.BusCorrupt, 'a record in the log failed verification', {
    context,
  });
}
