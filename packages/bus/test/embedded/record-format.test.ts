import { isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FrameStatus,
  checkFrame,
  decodeFrame,
  encodeFrame,
  frameOffset,
  frameSize,
} from '../../src/embedded/record-format.js';
import type { ProduceRecord } from '../../src/index.js';

function encode(record: ProduceRecord, offset: number, timestamp: number): Buffer {
  const buf = Buffer.alloc(frameSize(record));
  expect(encodeFrame(buf, 0, record, offset, timestamp)).toBe(buf.length);
  return buf;
}

describe('record framing', () => {
  it('round-trips key, value, headers, offset and timestamp', () => {
    const record: ProduceRecord = {
      key: Buffer.from('agent-7'),
      value: Buffer.from('{"event":"exec"}'),
      headers: { type: 'process', 'trace-id': 'ü∆ unicode ✓', empty: '' },
    };
    const offset = 2 ** 40 + 12345; // beyond 32 bits on purpose
    const timestamp = 1_795_000_000_123;
    const buf = encode(record, offset, timestamp);

    expect(checkFrame(buf, 0, buf.length)).toBe(buf.length);
    expect(frameOffset(buf, 0)).toBe(offset);
    expect(decodeFrame(buf, 0, 'events', 3)).toEqual({
      topic: 'events',
      partition: 3,
      offset,
      key: Buffer.from('agent-7'),
      value: Buffer.from('{"event":"exec"}'),
      headers: { type: 'process', 'trace-id': 'ü∆ unicode ✓', empty: '' },
      timestamp,
    });
  });

  it('keeps a null key distinct from an empty key', () => {
    const nullKey = encode({ key: null, value: Buffer.from('v') }, 0, 1);
    const emptyKey = encode({ key: Buffer.alloc(0), value: Buffer.from('v') }, 0, 1);
    expect(decodeFrame(nullKey, 0, 't', 0).key).toBeNull();
    expect(decodeFrame(emptyKey, 0, 't', 0).key).toEqual(Buffer.alloc(0));
  });

  it('keeps a header named __proto__ as an ordinary header', () => {
    const headers = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    const decoded = decodeFrame(
      encode({ key: null, value: Buffer.alloc(0), headers }, 0, 0),
      0,
      't',
      0,
    );
    expect(Object.keys(decoded.headers)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(decoded.headers)).toBe(Object.prototype);
  });

  it('detects a flipped bit anywhere in a record by its checksum or length', () => {
    const buf = encode(
      { key: Buffer.from('k'), value: Buffer.from('some value'), headers: { h: 'v' } },
      42,
      1000,
    );
    for (let i = 0; i < buf.length; i++) {
      const damaged = Buffer.from(buf);
      damaged[i] = damaged[i]! ^ 0x01;
      expect(checkFrame(damaged, 0, damaged.length), `byte ${i}`).toBeLessThan(0);
    }
  });

  it('reports a record cut short as incomplete, not as damage', () => {
    const buf = encode({ key: null, value: Buffer.alloc(100, 1) }, 0, 0);
    for (const length of [0, 3, FRAME_HEADER_BYTES, buf.length - 1]) {
      expect(checkFrame(buf, 0, length)).toBe(FrameStatus.Incomplete);
    }
  });

  it('reports an impossible length field', () => {
    const buf = Buffer.alloc(64);
    expect(checkFrame(buf, 0, buf.length)).toBe(FrameStatus.BadLength);
  });

  it('walks consecutive frames written into one buffer', () => {
    const records = [0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`v${i}`) }));
    const buf = Buffer.alloc(records.reduce((sum, r) => sum + frameSize(r), 0));
    let pos = 0;
    records.forEach((r, i) => (pos = encodeFrame(buf, pos, r, 10 + i, 0)));
    const offsets: number[] = [];
    for (let p = 0; p < buf.length;) {
      const size = checkFrame(buf, p, buf.length);
      expect(size).toBeGreaterThan(0);
      offsets.push(frameOffset(buf, p));
      p += size;
    }
    expect(offsets).toEqual([10, 11, 12]);
  });

  it('rejects header values that are not strings and negative timestamps with Validation', () => {
    const badHeader = { key: null, value: Buffer.alloc(1), headers: { n: 1 as unknown as string } };
    const badTimestamp = { key: null, value: Buffer.alloc(1), timestamp: -5 };
    for (const record of [badHeader, badTimestamp]) {
      let error: unknown;
      try {
        frameSize(record);
      } catch (err) {
        error = err;
      }
      expect(isMamoriError(error, 'MAMORI_VALIDATION')).toBe(true);
    }
  });
});
