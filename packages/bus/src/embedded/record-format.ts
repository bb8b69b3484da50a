import { crc32 } from 'node:zlib';
import { ErrorCode, MamoriError } from '@mamori/common';
import type { BusRecord, ProduceRecord, RecordHeaders } from '../types.js';

/*
 * One record on disk (all integers little-endian):
 *
 *   frame header   u32 body length   u32 crc32 of the body
 *   body           u8 magic (1)      u8 attributes (bit 0: null key)   u16 header count
 *                  u32 offset low    u32 offset high
 *                  u32 timestamp low u32 timestamp high
 *                  u32 key length    u32 value length
 *                  key bytes, value bytes
 *                  per header: u16 name length, name (UTF-8), u32 value length, value (UTF-8)
 *
 * The checksum covers the whole body, so a record's offset and timestamp are verified too.
 */

/** Length and checksum in front of every body. */
export const FRAME_HEADER_BYTES = 8;
/** Fixed part of a body, before key, value and headers. */
export const BODY_FIXED_BYTES = 28;
/** Version of the body layout. */
export const RECORD_MAGIC = 1;
/**
 * Sanity bound on one body, 1 GiB: a length field above it is damage, not a record (the
 * produce limit is far lower).
 */
export const MAX_BODY_BYTES = 1 << 30;

const ATTRIBUTE_NULL_KEY = 1;
const TWO_TO_32 = 4_294_967_296;
const MAX_U16 = 0xffff;
const EMPTY_HEADERS: RecordHeaders = Object.freeze({});

/** Why a frame could not be used; every value is negative, a usable frame returns its size. */
export const FrameStatus = {
  /** The buffer ends inside the frame. */
  Incomplete: -1,
  /** The length field is impossible. */
  BadLength: -2,
  /** The body does not match its checksum. */
  BadChecksum: -3,
  /** The body has an unknown layout version. */
  BadMagic: -4,
} as const;
export type FrameStatus = (typeof FrameStatus)[keyof typeof FrameStatus];

/** A short description of a negative `checkFrame` result, for errors and logs. */
export function describeFrameStatus(status: number): string {
  switch (status) {
    case FrameStatus.Incomplete:
      return 'incomplete record';
    case FrameStatus.BadLength:
      return 'impossible record length';
    case FrameStatus.BadChecksum:
      return 'checksum mismatch';
    case FrameStatus.BadMagic:
      return 'unknown record version';
    default:
      return 'invalid record';
  }
}

interface HeaderBlock {
  bytes: Buffer;
  count: number;
}

/**
 * Encoded headers by headers object, for the records of one produce call. Producers commonly
 * give many records of a call the same headers object (ingest does, per event kind); those
 * are validated and encoded once. Scoped to one synchronous call, so a headers object mutated
 * between calls is never served stale.
 */
export type HeaderCache = Map<RecordHeaders, HeaderBlock>;

function encodeHeaders(headers: RecordHeaders): HeaderBlock {
  const names = Object.keys(headers);
  if (names.length > MAX_U16) {
    throw new MamoriError(ErrorCode.Validation, 'a record has at most 65535 headers', {
      context: { field: 'headers' },
    });
  }
  const parts: Buffer[] = [];
  for (const name of names) {
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length > MAX_U16) {
      throw new MamoriError(ErrorCode.Validation, 'a header name has at most 65535 bytes', {
        context: { field: 'headers' },
      });
    }
    const headerValue: unknown = headers[name];
    if (typeof headerValue !== 'string') {
      throw new MamoriError(ErrorCode.Validation, 'header values must be strings', {
        context: { field: 'headers' },
      });
    }
    const valueBytes = Buffer.from(headerValue, 'utf8');
    const lengths = Buffer.allocUnsafe(2);
    lengths.writeUInt16LE(nameBytes.length, 0);
    const valueLength = Buffer.allocUnsafe(4);
    valueLength.writeUInt32LE(valueBytes.length, 0);
    parts.push(lengths, nameBytes, valueLength, valueBytes);
  }
  return { bytes: Buffer.concat(parts), count: names.length };
}

/**
 * The stored form of a headers object: for each header, u16 name length, name, u32 value
 * length, value (UTF-8).
 * @throws MamoriError Validation when a header cannot be stored.
 */
function headerBlock(headers: RecordHeaders, cache: HeaderCache): HeaderBlock {
  let block = cache.get(headers);
  if (block === undefined) {
    block = encodeHeaders(headers);
    cache.set(headers, block);
  }
  return block;
}

/**
 * Bytes `record` takes on disk.
 * @throws MamoriError Validation when a header or timestamp cannot be stored.
 */
export function frameSize(record: ProduceRecord, cache: HeaderCache = new Map()): number {
  const value: unknown = record.value;
  if (!(value instanceof Uint8Array)) {
    throw new MamoriError(ErrorCode.Validation, 'record value must be a Buffer', {
      context: { field: 'value' },
    });
  }
  let size = FRAME_HEADER_BYTES + BODY_FIXED_BYTES + value.length;
  const key: unknown = record.key;
  if (key != null) {
    if (!(key instanceof Uint8Array)) {
      throw new MamoriError(ErrorCode.Validation, 'record key must be a Buffer or null', {
        context: { field: 'key' },
      });
    }
    size += key.length;
  }
  const timestamp = record.timestamp;
  if (timestamp !== undefined && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) {
    throw new MamoriError(
      ErrorCode.Validation,
      'record timestamp must be a non-negative integer of ms',
      {
        context: { field: 'timestamp' },
      },
    );
  }
  const headers = record.headers;
  if (headers !== undefined) size += headerBlock(headers, cache).bytes.length;
  return size;
}

/**
 * Writes `record` at `pos` of `buf` (which must hold `frameSize(record)` bytes from there) and
 * returns the position after it. Validation happens in `frameSize`, so this cannot throw.
 */
export function encodeFrame(
  buf: Buffer,
  pos: number,
  record: ProduceRecord,
  offset: number,
  timestamp: number,
  cache: HeaderCache = new Map(),
): number {
  const body = pos + FRAME_HEADER_BYTES;
  const key = record.key ?? null;
  const value = record.value;
  const headers = record.headers;
  const block = headers === undefined ? undefined : headerBlock(headers, cache);
  buf[body] = RECORD_MAGIC;
  buf[body + 1] = key === null ? ATTRIBUTE_NULL_KEY : 0;
  buf.writeUInt16LE(block?.count ?? 0, body + 2);
  buf.writeUInt32LE(offset >>> 0, body + 4);
  buf.writeUInt32LE(Math.floor(offset / TWO_TO_32), body + 8);
  buf.writeUInt32LE(timestamp >>> 0, body + 12);
  buf.writeUInt32LE(Math.floor(timestamp / TWO_TO_32), body + 16);
  buf.writeUInt32LE(key === null ? 0 : key.length, body + 20);
  buf.writeUInt32LE(value.length, body + 24);
  let p = body + BODY_FIXED_BYTES;
  if (key !== null) {
    buf.set(key, p);
    p += key.length;
  }
  buf.set(value, p);
  p += value.length;
  if (block !== undefined) {
    buf.set(block.bytes, p);
    p += block.bytes.length;
  }
  buf.writeUInt32LE(p - body, pos);
  buf.writeUInt32LE(crc32(buf.subarray(body, p)), pos + 4);
  return p;
}

/**
 * Checks the frame at `pos` (the buffer's data ends at `end`): returns its total size when it
 * is whole and its checksum matches, or a negative FrameStatus.
 */
export function checkFrame(buf: Buffer, pos: number, end: number): number {
  if (end - pos < FRAME_HEADER_BYTES) return FrameStatus.Incomplete;
  const length = buf.readUInt32LE(pos);
  if (length < BODY_FIXED_BYTES || length > MAX_BODY_BYTES) return FrameStatus.BadLength;
  if (end - pos - FRAME_HEADER_BYTES < length) return FrameStatus.Incomplete;
  const body = pos + FRAME_HEADER_BYTES;
  if (crc32(buf.subarray(body, body + length)) !== buf.readUInt32LE(pos + 4)) {
    return FrameStatus.BadChecksum;
  }
  if (buf[body] !== RECORD_MAGIC) return FrameStatus.BadMagic;
  return FRAME_HEADER_BYTES + length;
}

/** Total size the length field at `pos` announces, or a negative FrameStatus. */
export function announcedFrameSize(buf: Buffer, pos: number, end: number): number {
  if (end - pos < FRAME_HEADER_BYTES) return FrameStatus.Incomplete;
  const length = buf.readUInt32LE(pos);
  if (length < BODY_FIXED_BYTES || length > MAX_BODY_BYTES) return FrameStatus.BadLength;
  return FRAME_HEADER_BYTES + length;
}

/** The offset stored in the frame at `pos` (the frame must have passed `checkFrame`). */
export function frameOffset(buf: Buffer, pos: number): number {
  const body = pos + FRAME_HEADER_BYTES;
  return buf.readUInt32LE(body + 8) * TWO_TO_32 + buf.readUInt32LE(body + 4);
}

/**
 * Decodes the frame at `pos`, which must have passed `checkFrame`. Key and value are views of
 * `buf`, not copies.
 * @throws Error when the body's inner lengths do not add up (the caller adds file and position).
 */
export function decodeFrame(buf: Buffer, pos: number, topic: string, partition: number): BusRecord {
  const body = pos + FRAME_HEADER_BYTES;
  const end = body + buf.readUInt32LE(pos);
  const nullKey = (buf[body + 1]! & ATTRIBUTE_NULL_KEY) !== 0;
  const headerCount = buf.readUInt16LE(body + 2);
  const offset = buf.readUInt32LE(body + 8) * TWO_TO_32 + buf.readUInt32LE(body + 4);
  const timestamp = buf.readUInt32LE(body + 16) * TWO_TO_32 + buf.readUInt32LE(body + 12);
  const keyLength = buf.readUInt32LE(body + 20);
  const valueLength = buf.readUInt32LE(body + 24);
  let p = body + BODY_FIXED_BYTES;
  if (p + keyLength + valueLength > end) throw new Error('key and value overrun the record');
  const key = nullKey ? null : buf.subarray(p, p + keyLength);
  p += keyLength;
  const value = buf.subarray(p, p + valueLength);
  p += valueLength;
  let headers = EMPTY_HEADERS;
  if (headerCount > 0) {
    const decoded: Record<string, string> = {};
    for (let i = 0; i < headerCount; i++) {
      if (p + 2 > end) throw new Error('headers overrun the record');
      const nameLength = buf.readUInt16LE(p);
      p += 2;
      if (p + nameLength + 4 > end) throw new Error('headers overrun the record');
      const name = buf.toString('utf8', p, p + nameLength);
      p += nameLength;
      const valueLengthH = buf.readUInt32LE(p);
      p += 4;
      if (p + valueLengthH > end) throw new Error('headers overrun the record');
      const headerValue = buf.toString('utf8', p, p + valueLengthH);
      // Assigning "__proto__" would silently drop the header (and must never touch a prototype).
      if (name === '__proto__') {
        Object.defineProperty(decoded, name, {
          value: headerValue,
          enumerable: true,
          writable: true,
        });
      } else {
        decoded[name] = headerValue;
      }
      p += valueLengthH;
    }
    headers = decoded;
  }
  if (p !== end) throw new Error('record body has trailing bytes');
  return { topic, partition, offset, key, value, headers, timestamp };
}
