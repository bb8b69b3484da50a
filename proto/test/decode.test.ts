import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { createEventCodec, decodeEvent, protoType, WireDecodeError } from '../src/index.js';
import { checkStructure, decodeMessage, loadEventWireSchema } from '../src/wire/index.js';

/**
 * decodeEvent against the loader's codec (protobufjs decode + toObject): random events of every
 * payload kind, built from the reflected schema so that a new field or kind is covered without
 * editing this file; wire-level variations protobufjs encoders never write; and fuzzed bytes.
 */

const codec = createEventCodec();
const EVENT = protoType('mamori.v1.Event');

/** mulberry32: a small seeded generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]!;

// A pool, so that the string cache sees hits, misses and strings that differ in one byte.
const POOL = [
  'sh',
  'node',
  'nodf',
  '/usr/bin/python3',
  '/usr/bin/python2',
  'registry.city.example/portal/web',
  'a'.repeat(64),
  'a'.repeat(63) + 'b',
  'a'.repeat(65),
  'x'.repeat(13),
  'x'.repeat(12),
  '__proto__',
  'constructor',
  '7',
];

function randomString(rng: Rng): string {
  switch (int(rng, 7)) {
    case 0:
      return '';
    case 1:
    case 2:
      return pick(rng, POOL);
    case 3: {
      let s = '';
      const n = int(rng, 90);
      for (let i = 0; i < n; i++) s += String.fromCharCode(32 + int(rng, 95));
      return s;
    }
    case 4:
      return pick(rng, [
        'café',
        '日本語のパス',
        'emoji 😀 here',
        '\u0000nul',
        'ünïcödé'.repeat(12),
      ]);
    case 5:
      return `evt-${int(rng, 1e9).toString(36)}`;
    default:
      return String.fromCharCode(...Array.from({ length: int(rng, 20) }, () => int(rng, 0x2fff)));
  }
}

function randomScalar(rng: Rng, type: string): unknown {
  switch (type) {
    case 'string':
      return randomString(rng);
    case 'bytes':
      return Buffer.from(Array.from({ length: pick(rng, [0, 1, 5, 40]) }, () => int(rng, 256)));
    case 'bool':
      return rng() < 0.5;
    case 'int32':
      return pick(rng, [0, 1, -1, 127, 128, 2 ** 31 - 1, -(2 ** 31), int(rng, 1e6) - 5e5]);
    case 'uint32':
      return pick(rng, [0, 1, 127, 128, 16_384, 2 ** 32 - 1, int(rng, 2 ** 32)]);
    case 'int64':
      return pick(rng, [
        0,
        1,
        -1,
        1_764_000_000_123_456,
        2 ** 53 - 1,
        '9223372036854775807',
        '-9223372036854775808',
        '9007199254740993',
        -int(rng, 1e12),
      ]);
    case 'uint64':
      return pick(rng, [0, 1, 2 ** 32, 2 ** 53 - 1, '18446744073709551615', '9007199254740993']);
    case 'double':
      return pick(rng, [0, -0, 1.5, NaN, Infinity, -Infinity, rng() * 10, 5e-324]);
    default:
      throw new Error(`no generator for ${type}`);
  }
}

function isType(t: protobuf.ReflectionObject | null): t is protobuf.Type {
  return t !== null && 'fieldsArray' in t;
}
function isEnum(t: protobuf.ReflectionObject | null): t is protobuf.Enum {
  return t !== null && 'valuesById' in t && !('fieldsArray' in t);
}

function randomValue(rng: Rng, field: protobuf.Field, depth: number): unknown {
  field.resolve();
  const resolved = field.resolvedType;
  if (isType(resolved)) return randomMessage(rng, resolved, depth + 1);
  if (isEnum(resolved)) {
    // Names, and numbers the enum does not know (protobufjs keeps those as numbers).
    return rng() < 0.8 ? pick(rng, Object.keys(resolved.values)) : pick(rng, [9, 77, -3]);
  }
  return randomScalar(rng, field.type);
}

/** A random object of `type` for protobufjs's fromObject: some fields absent, some empty. */
function randomMessage(rng: Rng, type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const oneofMembers = new Map<string, protobuf.Field[]>();
  for (const field of type.fieldsArray) {
    if (field.partOf) {
      const list = oneofMembers.get(field.partOf.name) ?? [];
      list.push(field);
      oneofMembers.set(field.partOf.name, list);
      continue;
    }
    if (rng() < 0.25) continue;
    if (field.map) {
      const entries: Record<string, unknown> = {};
      for (let i = int(rng, 4); i > 0; i--) {
        entries[randomString(rng)] = randomScalar(rng, field.type);
      }
      out[field.name] = entries;
    } else if (field.repeated) {
      out[field.name] = Array.from({ length: int(rng, 4) }, () => randomValue(rng, field, depth));
    } else if (isType(field.resolvedType) && (depth > 4 || rng() < 0.2)) {
      out[field.name] = null;
    } else {
      out[field.name] = randomValue(rng, field, depth);
    }
  }
  for (const members of oneofMembers.values()) {
    if (rng() < 0.15) continue;
    const field = pick(rng, members);
    out[field.name] = randomValue(rng, field, depth);
  }
  return out;
}

function encode(type: protobuf.Type, object: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(type.fromObject(object)).finish());
}

/** What protobufjs gives, or the error it throws. */
function reference(bytes: Uint8Array): { value?: unknown; error?: unknown } {
  try {
    return { value: codec.decode(bytes) };
  } catch (error) {
    return { error };
  }
}
function ours(bytes: Uint8Array): { value?: unknown; error?: unknown } {
  try {
    return { value: decodeEvent(bytes) };
  } catch (error) {
    return { error };
  }
}

function describe_(err: unknown): string {
  return err instanceof Error ? err.message : JSON.stringify(err);
}

/** Equal as objects (prototypes, -0, NaN, Buffers) and as JSON (key order included). */
function expectSame(bytes: Uint8Array, context: string): void {
  const expected = reference(bytes);
  const actual = ours(bytes);
  if (expected.error !== undefined) {
    expect(actual.error, `${context}: protobufjs threw, decodeEvent did not`).toBeDefined();
    return;
  }
  expect(actual.error, `${context}: decodeEvent threw ${describe_(actual.error)}`).toBeUndefined();
  expect(actual.value, context).toStrictEqual(expected.value);
  expect(JSON.stringify(actual.value), context).toBe(JSON.stringify(expected.value));
}

const SCHEMA = loadEventWireSchema();

/**
 * The relation on malformed bytes: where protobufjs throws, decodeEvent throws; where both
 * read, they read alike; where only decodeEvent throws, the bytes are outside what encoders
 * write (the structure check refuses them, or a 32-bit varint is 6 to 9 bytes long).
 * Returns which case it was.
 */
function expectRelated(bytes: Uint8Array, context: string): 'both' | 'threw' | 'stricter' {
  const expected = reference(bytes);
  const actual = ours(bytes);
  if (expected.error !== undefined) {
    expect(actual.error, `${context}: protobufjs threw, decodeEvent did not`).toBeDefined();
    return 'threw';
  }
  if (actual.error !== undefined) {
    const nonCanonical = /non-canonical varint/.test(describe_(actual.error));
    const problem = checkStructure(bytes, 0, bytes.length, SCHEMA);
    expect(nonCanonical || problem !== undefined, `${context}: ${describe_(actual.error)}`).toBe(
      true,
    );
    return 'stricter';
  }
  expect(actual.value, context).toStrictEqual(expected.value);
  return 'both';
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

describe('decodeEvent', () => {
  it('gives what the codec gives for random events of every payload kind', () => {
    const rng = random(20251128);
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const object = randomMessage(rng, EVENT);
      const bytes = encode(EVENT, object);
      const kind = codec.decode(bytes).payload;
      if (kind) kinds.add(kind);
      expectSame(bytes, `event ${i}: ${bytes.toString('hex')}`);
    }
    // Every member of the payload oneof came up, the new runtime kinds among them.
    const members = EVENT.oneofsArray.find((o) => o.name === 'payload')!.oneof;
    expect([...kinds].sort()).toEqual([...members].sort());
  });

  it('reads an empty message as every field at its default', () => {
    expect(decodeEvent(new Uint8Array(0))).toStrictEqual(codec.decode(new Uint8Array(0)));
    expect(decodeEvent(encode(EVENT, { process_exec: {} }))).toStrictEqual({
      labels: {},
      id: '',
      tenant_id: '',
      agent_id: '',
      observed_unix_micros: 0,
      received_unix_micros: 0,
      host: null,
      workload: null,
      process_exec: { process: null },
      payload: 'process_exec',
    });
  });

  it('keeps Process.cap_effective absent when not sent, and 0 when sent as 0', () => {
    const without = decodeEvent(encode(EVENT, { process_exec: { process: { pid: 1 } } }));
    expect(without.process_exec!.process).not.toHaveProperty('cap_effective');
    expect(without.process_exec!.process).not.toHaveProperty('_cap_effective');
    const zero = decodeEvent(encode(EVENT, { process_exec: { process: { cap_effective: 0 } } }));
    expect(zero.process_exec!.process!.cap_effective).toBe(0);
    expect(zero.process_exec!.process!._cap_effective).toBe('cap_effective');
  });

  it('gives bytes fields as views of the input, Buffer or Uint8Array as given', () => {
    const bytes = encode(EVENT, { http_request: { body: Buffer.from('{"a":1}') } });
    const fromBuffer = decodeEvent(bytes).http_request!.body;
    expect(Buffer.isBuffer(fromBuffer)).toBe(true);
    expect(fromBuffer.buffer).toBe(bytes.buffer);
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(decodeEvent(view)).toStrictEqual(codec.decode(view));
    expect(Buffer.isBuffer(decodeEvent(view).http_request!.body)).toBe(false);
  });

  it('replaces a message field sent twice, appends repeated fields, merges maps, as protobufjs', () => {
    const rng = random(7);
    for (let i = 0; i < 1500; i++) {
      const a = encode(EVENT, randomMessage(rng, EVENT));
      const b = encode(EVENT, randomMessage(rng, EVENT));
      // Two payload members, a host twice, labels from both: concatenation is how protobuf
      // merges, and how a field comes twice.
      expectSame(Buffer.concat([a, b]), `concat ${i}`);
    }
  });

  it('skips fields it does not know, of every wire type proto3 writes', () => {
    const rng = random(11);
    const unknown = [
      [...varint((15 << 3) | 0), ...varint(300)],
      [...varint((99 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8],
      [...varint((1000 << 3) | 2), 3, 0x61, 0x62, 0x63],
      [...varint((536_870_911 * 8 + 5) >>> 0), 9, 9, 9, 9],
    ];
    for (let i = 0; i < 500; i++) {
      const bytes = encode(EVENT, randomMessage(rng, EVENT));
      const at = int(rng, 2) === 0 ? 0 : bytes.length;
      const extra = Buffer.from(pick(rng, unknown));
      expectSame(
        Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)]),
        `unknown field ${i}`,
      );
    }
  });

  it('reads over-long varints of up to five bytes (tags, lengths, values) as protobufjs', () => {
    // id (field 1) with its tag and length each padded to five bytes, then pid in a process.
    const bytes = Buffer.from([
      0x8a, 0x80, 0x80, 0x80, 0x00, 0x83, 0x80, 0x80, 0x80, 0x00, 0x61, 0x62, 0x63,
    ]);
    expectSame(bytes, 'over-long tag and length');
    expect(decodeEvent(bytes).id).toBe('abc');
  });

  it('reads a negative int32 (ten bytes on the wire) and int64 beyond 2^53 as protobufjs', () => {
    const bytes = encode(EVENT, {
      observed_unix_micros: '-9223372036854775808',
      received_unix_micros: '9007199254740993',
      process_exit: {
        exit_code: -1,
        signal: -(2 ** 31),
        process: { cap_effective: '18446744073709551615' },
      },
    });
    expectSame(bytes, 'extremes');
    expect(decodeEvent(bytes).process_exit!.exit_code).toBe(-1);
  });

  it('reads invalid UTF-8 the way protobufjs does', () => {
    const strings = [
      [0xc3],
      [0xff, 0x41],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
      [0x80, 0x80],
      [0xc0, 0xaf],
      [0xef, 0xbf, 0xbd],
      [0x41, 0xf4, 0x90, 0x80, 0x80],
    ];
    for (const content of strings) {
      expectSame(Buffer.from([0x0a, content.length, ...content]), `utf8 ${content.join(',')}`);
    }
  });

  it('throws on truncated bytes, bad wire types, varint overflow and strings past the end', () => {
    const cases: [string, number[]][] = [
      ['truncated tag', [0x8a]],
      ['truncated length', [0x0a, 0x85]],
      ['string past the end', [0x0a, 0x05, 0x61, 0x62]],
      ['sub-message past the end', [0x32, 0x10, 0x0a, 0x01, 0x61]],
      ['string past its sub-message', [0x32, 0x03, 0x0a, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65]],
      ['varint overflow', [0x20, ...Array<number>(10).fill(0xff), 0x01]],
      ['wire type 4', [0x0c]],
      ['wire type 6', [(99 << 3) | 6]],
      ['wire type 7', [0x0f]],
      ['known field, wrong wire type', [0x08, 0x01]],
      ['group', [(99 << 3) | 3, (99 << 3) | 4]],
      ['field number 0', [0x00, 0x01]],
      ['truncated double', [0x82, 0x02, 0x09, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]],
      ['non-canonical 32-bit varint', [0x82, 0x02, 0x07, 0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ];
    for (const [name, bytes] of cases) {
      expect(() => decodeEvent(Buffer.from(bytes)), name).toThrow(WireDecodeError);
    }
  });

  it('throws on every truncation protobufjs throws on, and reads the others alike', () => {
    const rng = random(3);
    for (let i = 0; i < 60; i++) {
      const bytes = encode(EVENT, randomMessage(rng, EVENT));
      for (let cut = 0; cut < bytes.length; cut++) {
        expectRelated(bytes.subarray(0, cut), `event ${i} cut at ${cut}`);
      }
    }
  });

  it('on fuzzed bytes throws wherever protobufjs throws, and is stricter only on what no encoder writes', () => {
    const rng = random(99);
    let stricter = 0;
    let thrown = 0;
    for (let i = 0; i < 10_000; i++) {
      const bytes = encode(EVENT, randomMessage(rng, EVENT));
      if (bytes.length === 0) continue;
      for (let edits = 1 + int(rng, 3); edits > 0; edits--) {
        const at = int(rng, bytes.length);
        switch (int(rng, 3)) {
          case 0:
            bytes[at] = bytes[at]! ^ (1 << int(rng, 8));
            break;
          case 1:
            bytes[at] = int(rng, 256);
            break;
          default:
            bytes[at] = bytes[at]! | 0x80;
        }
      }
      const outcome = expectRelated(bytes, `fuzz ${i}: ${bytes.toString('hex')}`);
      if (outcome === 'threw') thrown++;
      if (outcome === 'stricter') stricter++;
    }
    expect(thrown).toBeGreaterThan(500);
    expect(stricter).toBeGreaterThan(0);
  });
});

describe('decodeMessage', () => {
  it('gives what protobufjs gives for random alerts (the other message of event.proto)', () => {
    const type = protoType('mamori.v1.Alert');
    const rng = random(5);
    const options = { longs: Number, enums: String, defaults: true, oneofs: true };
    for (let i = 0; i < 1000; i++) {
      const bytes = encode(type, randomMessage(rng, type));
      const expected = type.toObject(type.decode(bytes), options);
      expect(decodeMessage('mamori.v1.Alert', bytes), `alert ${i}`).toStrictEqual(expected);
    }
  });
});
