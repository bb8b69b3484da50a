import type { ProduceRecord, RecordHeaders } from '../types.js';

/**
 * Records packed into one ArrayBuffer, to hand a produce call to the producer thread without
 * copying each record again on the way (the buffer is transferred, and the records on the
 * other side are views into it).
 *
 * Layout, little-endian: u32 count, then per record: i32 partition (-1: none),
 * f64 timestamp (-1: none), i32 key length (-1: null key), key, u32 value length, value,
 * u16 header count, per header: u16 name length, name, u32 value length, value (UTF-8).
 */

function headerBytes(headers: RecordHeaders): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const lengths = Buffer.allocUnsafe(6);
    lengths.writeUInt16LE(n.length, 0);
    lengths.writeUInt32LE(v.length, 2);
    parts.push(lengths.subarray(0, 2), n, lengths.subarray(2, 6), v);
  }
  return Buffer.concat(parts);
}

/** Packs records; their header objects are encoded once each per call. */
export function packRecords(records: readonly ProduceRecord[]): ArrayBuffer {
  const encodedHeaders = new Map<RecordHeaders, { bytes: Buffer; count: number }>();
  const headersOf = (
    headers: RecordHeaders | undefined,
  ): { bytes: Buffer; count: number } | undefined => {
    if (headers === undefined) return undefined;
    let encoded = encodedHeaders.get(headers);
    if (!encoded) {
      encoded = { bytes: headerBytes(headers), count: Object.keys(headers).length };
      encodedHeaders.set(headers, encoded);
    }
    return encoded;
  };
  let size = 4;
  for (const record of records) {
    size += 4 + 8 + 4 + (record.key?.length ?? 0) + 4 + record.value.length + 2;
    size += headersOf(record.headers)?.bytes.length ?? 0;
  }
  const buffer = new ArrayBuffer(size);
  const out = Buffer.from(buffer);
  let at = out.writeUInt32LE(records.length, 0);
  for (const record of records) {
    at = out.writeInt32LE(record.partition ?? -1, at);
    at = out.writeDoubleLE(record.timestamp ?? -1, at);
    if (record.key == null) {
      at = out.writeInt32LE(-1, at);
    } else {
      at = out.writeInt32LE(record.key.length, at);
      out.set(record.key, at);
      at += record.key.length;
    }
    at = out.writeUInt32LE(record.value.length, at);
    out.set(record.value, at);
    at += record.value.length;
    const headers = headersOf(record.headers);
    at = out.writeUInt16LE(headers?.count ?? 0, at);
    if (headers) {
      out.set(headers.bytes, at);
      at += headers.bytes.length;
    }
  }
  return buffer;
}

/** The records of a packed buffer; keys and values are views into it. */
export function unpackRecords(buffer: ArrayBuffer): ProduceRecord[] {
  const data = Buffer.from(buffer);
  const count = data.readUInt32LE(0);
  let at = 4;
  const records: ProduceRecord[] = new Array<ProduceRecord>(count);
  for (let i = 0; i < count; i++) {
    const partition = data.readInt32LE(at);
    const timestamp = data.readDoubleLE(at + 4);
    const keyLength = data.readInt32LE(at + 12);
    at += 16;
    const key = keyLength < 0 ? null : data.subarray(at, at + keyLength);
    at += Math.max(0, keyLength);
    const valueLength = data.readUInt32LE(at);
    at += 4;
    const value = data.subarray(at, at + valueLength);
    at += valueLength;
    const headerCount = data.readUInt16LE(at);
    at += 2;
    let headers: Record<string, string> | undefined;
    if (headerCount > 0) {
      headers = {};
      for (let h = 0; h < headerCount; h++) {
        const nameLength = data.readUInt16LE(at);
        const name = data.toString('utf8', at + 2, at + 2 + nameLength);
        at += 2 + nameLength;
        const valueLen = data.readUInt32LE(at);
        headers[name] = data.toString('utf8', at + 4, at + 4 + valueLen);
        at += 4 + valueLen;
      }
    }
    records[i] = {
      key,
      value,
      ...(headers ? { headers } : {}),
      ...(partition >= 0 ? { partition } : {}),
      ...(timestamp >= 0 ? { timestamp } : {}),
    };
  }
  return records;
}
