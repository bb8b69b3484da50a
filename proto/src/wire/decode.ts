import protobuf from 'protobufjs';
import type { Event__Output } from '../generated/mamori/v1/Event.generated.js';
import { protoType } from '../loader.js';

/**
 * A fast decoder of `mamori.v1` messages into the same plain objects as the loader's codec
 * (protobufjs `decode` + `toObject` with `longs: Number, enums: String, defaults: true,
 * oneofs: true`), generated once per message type from the reflected schema.
 *
 * Each message type gets one function, built with `new Function` from its field list: field
 * values go into locals while the bytes are read, and the object is built at the end as one
 * object literal, keys in protobufjs's order, so that every object of a type (and payload
 * member) has one hidden class. Only names from the .proto (checked to be identifiers) are
 * written into the source; bytes never are. Helpers and tables are passed in as arguments.
 *
 * Same output as protobufjs, including its choices:
 * - a message field that occurs twice keeps the last occurrence whole (protobufjs replaces,
 *   it does not merge as the protobuf spec says);
 * - oneof members that occur together are all present, and the oneof's virtual field names the
 *   one with the highest field number; a proto3 `optional` field is a oneof of its own
 *   (`_name`), present only when it was on the wire;
 * - absent message fields are `null` (oneof members absent altogether), int64 are numbers
 *   (`lo + hi·2³²`, two's complement for signed), enums are names or the number when unknown,
 *   bytes are views of the input (a fresh empty Buffer when empty or absent), invalid UTF-8 is
 *   read as protobufjs reads it.
 *
 * Stricter than protobufjs, on bytes no protobuf encoder writes (each throws, where protobufjs
 * reads something or skips on):
 * - a known field with a wire type other than its declaration's (protobufjs reads the bytes as
 *   the declared type);
 * - field number 0, groups (wire types 3 and 4), varints longer than 10 bytes, and a varint
 *   cut off by the end of its message (protobufjs accepts a cut 64-bit varint of 4 bytes at the
 *   end of a message);
 * - a varint of 6 to 9 bytes for a 32-bit value or a tag or a length (protobufjs always skips
 *   10 bytes once the fifth has its continuation bit, and misreads what follows).
 * Everything protobufjs throws on, this throws on too.
 */

/** Bytes that are not a valid encoding; `offset` is where reading stopped. */
export class WireDecodeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'WireDecodeError';
    this.offset = offset;
  }
}

/** Where the last helper call stopped reading; helpers return a value and set `p`. */
interface ReadState {
  p: number;
  /** The caller's input, for views of bytes fields (a Uint8Array stays one). */
  src: Uint8Array;
}

const state: ReadState = { p: 0, src: new Uint8Array(0) };

function truncated(pos: number): WireDecodeError {
  return new WireDecodeError('truncated varint', pos);
}

/**
 * A varint's low 32 bits, unsigned. Throws when it is cut off, longer than 10 bytes, or 6 to 9
 * bytes long (see above).
 */
function readVarint32(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let byte = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated(pos);
    byte = buf[pos++]!;
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      state.p = pos;
      return value >>> 0;
    }
  }
  if (pos >= end) throw truncated(pos);
  byte = buf[pos++]!;
  value |= (byte & 0x0f) << 28;
  if (byte >= 0x80) {
    // Bytes 6 to 10: only a full 10-byte varint (a negative int32) is read alike by protobufjs.
    for (let i = 0; i < 5; i++) {
      if (pos >= end) throw truncated(pos);
      byte = buf[pos++]!;
      if (byte < 0x80) {
        if (i < 4) throw new WireDecodeError('non-canonical varint of a 32-bit value', pos);
        break;
      }
      if (i === 4) throw new WireDecodeError('varint longer than 10 bytes', pos);
    }
  }
  state.p = pos;
  return value >>> 0;
}

/** A 64-bit varint as protobufjs's `LongBits.toNumber(unsigned)` gives it. */
function readVarint64(buf: Uint8Array, pos: number, end: number, unsigned: boolean): number {
  let lo = 0;
  let hi = 0;
  let byte = 0;
  let done = false;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated(pos);
    byte = buf[pos++]!;
    lo = (lo | ((byte & 0x7f) << shift)) >>> 0;
    if (byte < 0x80) {
      done = true;
      break;
    }
  }
  if (!done) {
    if (pos >= end) throw truncated(pos);
    byte = buf[pos++]!;
    lo = (lo | ((byte & 0x7f) << 28)) >>> 0;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) done = true;
  }
  if (!done) {
    for (let shift = 3; shift < 38; shift += 7) {
      if (pos >= end) throw truncated(pos);
      byte = buf[pos++]!;
      hi = (hi | ((byte & 0x7f) << shift)) >>> 0;
      if (byte < 0x80) {
        done = true;
        break;
      }
    }
    if (!done) throw new WireDecodeError('varint longer than 10 bytes', pos);
  }
  state.p = pos;
  if (!unsigned && hi >>> 31) {
    lo = (~lo + 1) >>> 0;
    hi = ~hi >>> 0;
    if (!lo) hi = (hi + 1) >>> 0;
    return -(lo + hi * 4294967296);
  }
  return lo + hi * 4294967296;
}

function readInt64(buf: Uint8Array, pos: number, end: number): number {
  return readVarint64(buf, pos, end, false);
}

function readUint64(buf: Uint8Array, pos: number, end: number): number {
  return readVarint64(buf, pos, end, true);
}

/** protobufjs's own UTF-8 decoder (`@protobufjs/utf8`), which its Reader uses for strings. */
const protobufUtf8 = (
  protobuf.util as unknown as {
    utf8: { read(this: void, buffer: Uint8Array, start: number, end: number): string };
  }
).utf8;
const utf8Read = (buffer: Uint8Array, start: number, end: number): string =>
  protobufUtf8.read(buffer, start, end);

const hasLatin1Slice =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function';

/**
 * Recently read ASCII strings, by a hash of their bytes: most strings of an event (host,
 * workload, process names and paths, tenant and agent) repeat from event to event, and
 * comparing bytes with a cached string is cheaper than making a new one (a native call of
 * about 80 ns, and garbage). A slot holds one string; a miss replaces it.
 */
const CACHE_SLOTS = 4096;
const CACHE_SHIFT = 32 - 12;
const CACHED_MAX_LENGTH = 96;
const stringCache: string[] = new Array<string>(CACHE_SLOTS).fill('');

/** Text of UTF-8 bytes, exactly as protobufjs reads them (its decoder for invalid UTF-8). */
function readString(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return '';
  if (length > CACHED_MAX_LENGTH) return readLongString(buf, start, end);
  // The slot comes from a few bytes and the length, not all bytes: the comparison below reads
  // every byte anyway, and a collision only costs a miss.
  const last = end - 1;
  const quarter = length >> 2;
  const hash = Math.imul(
    length ^
      (buf[start]! << 8) ^
      (buf[last]! << 16) ^
      (buf[start + (length >> 1)]! << 24) ^
      buf[start + quarter]! ^
      (buf[last - quarter]! << 4),
    0x9e3779b1,
  );
  const slot = hash >>> CACHE_SHIFT;
  const cached = stringCache[slot]!;
  if (cached.length === length) {
    // Equal to a cached ASCII string means ASCII too.
    let i = 0;
    while (i < length && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === length) return cached;
  }
  let text: string;
  if (length < 13) {
    // Short ASCII (names, flags): a loop beats a native call. Below 13 characters V8 makes
    // flat strings of concatenations, not cons strings.
    text = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return readNonAscii(buf, start, end);
      text += String.fromCharCode(c);
    }
  } else {
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) return readNonAscii(buf, start, end);
    }
    text = latin1(buf, start, end);
  }
  stringCache[slot] = text;
  return text;
}

function latin1(buf: Buffer, start: number, end: number): string {
  return hasLatin1Slice
    ? (buf as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(start, end)
    : buf.toString('latin1', start, end);
}

function readLongString(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return readNonAscii(buf, start, end);
  }
  return latin1(buf, start, end);
}

function readNonAscii(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  // Valid UTF-8 reads the same everywhere; only invalid bytes (where the standard decoder puts
  // U+FFFD) need protobufjs's own decoder, which reads them differently.
  if (text.indexOf('\uFFFD') === -1) return text;
  return utf8Read(buf.subarray(start, end), 0, end - start);
}

/** A bytes field: a view of the caller's input, as protobufjs's Reader gives it. */
function readBytes(start: number, end: number): Uint8Array {
  if (start === end) return Buffer.alloc(0);
  return state.src.subarray(start, end);
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function readDouble(buf: Uint8Array, pos: number, end: number): number {
  if (pos + 8 > end) throw new WireDecodeError('truncated double', pos);
  for (let i = 0; i < 8; i++) f64Bytes[littleEndian ? i : 7 - i] = buf[pos + i]!;
  return f64[0]!;
}

/**
 * Skips a field the message does not declare (newer writers); throws on what proto3 never
 * writes and on a declared field that came with the wrong wire type.
 */
function skipField(
  buf: Uint8Array,
  pos: number,
  end: number,
  tag: number,
  known: Uint8Array,
): number {
  const number = tag >>> 3;
  const wireType = tag & 7;
  if (number === 0) throw new WireDecodeError('field number 0', pos);
  if (number < known.length && known[number] === 1) {
    throw new WireDecodeError(`field ${number} has the wrong wire type ${wireType}`, pos);
  }
  switch (wireType) {
    case 0:
      for (let i = 0; i < 10; i++) {
        if (pos >= end) throw truncated(pos);
        if (buf[pos++]! < 0x80) return pos;
      }
      throw new WireDecodeError('varint longer than 10 bytes', pos);
    case 1:
      if (pos + 8 > end) throw new WireDecodeError('truncated 64-bit field', pos);
      return pos + 8;
    case 2: {
      const size = readVarint32(buf, pos, end);
      const next = state.p + size;
      if (next > end) throw new WireDecodeError('length runs past the end', state.p);
      return next;
    }
    case 5:
      if (pos + 4 > end) throw new WireDecodeError('truncated 32-bit field', pos);
      return pos + 4;
    default:
      throw new WireDecodeError(`wire type ${wireType}`, pos);
  }
}

function pastEnd(pos: number): WireDecodeError {
  return new WireDecodeError('length runs past the end', pos);
}

/** A map key of `__proto__` becomes an own property, as protobufjs makes it. */
function setProtoKey(map: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(map, '__proto__', {
    value,
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

const HELPERS = {
  S: state,
  rv32: readVarint32,
  ri64: readInt64,
  ru64: readUint64,
  str: readString,
  bytes: readBytes,
  dbl: readDouble,
  skip: skipField,
  pastEnd,
  protoKey: setProtoKey,
  empty: () => Buffer.alloc(0),
};

type Decoder = (buf: Buffer, pos: number, end: number) => Record<string, unknown>;

// Duck-typed like schema.ts: a second copy of protobufjs must not change the schema.
function isType(type: protobuf.ReflectionObject | null): type is protobuf.Type {
  return type !== null && 'fieldsArray' in type;
}
function isEnum(type: protobuf.ReflectionObject | null): type is protobuf.Enum {
  return type !== null && 'valuesById' in type && !('fieldsArray' in type);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Scalars this decoder reads: their wire type, how one value is read, their default. */
interface ScalarKind {
  wireType: number;
  /** Statements that read one value at `pos` into `target` and move `pos` past it. */
  read: (target: string) => string;
  initial: string;
}

// Generated code sees `buf`, `pos`, `end`, the helpers `H.*`, and scratch locals `v`, `l`, `n`.

/** Reads a length and checks it: the content is then [pos, l). */
const LENGTH =
  'if (pos < end && (l = buf[pos]) < 128) pos++; else { l = H.rv32(buf, pos, end); pos = H.S.p; } ' +
  'l += pos; if (l > end) throw H.pastEnd(pos);';

const varint32 = (convert: (v: string) => string) => (target: string) =>
  `if (pos < end && (v = buf[pos]) < 128) { pos++; ${target} = ${convert('v')}; } ` +
  `else { v = H.rv32(buf, pos, end); pos = H.S.p; ${target} = ${convert('v')}; }`;

const varint64 = (helper: string) => (target: string) =>
  `if (pos < end && (v = buf[pos]) < 128) { pos++; ${target} = v; } ` +
  `else { ${target} = H.${helper}(buf, pos, end); pos = H.S.p; }`;

const SCALARS: Record<string, ScalarKind> = {
  string: {
    wireType: 2,
    read: (target) => `${LENGTH} ${target} = H.str(buf, pos, l); pos = l;`,
    initial: '""',
  },
  bytes: {
    wireType: 2,
    read: (target) => `${LENGTH} ${target} = H.bytes(pos, l); pos = l;`,
    initial: 'H.empty()',
  },
  int32: { wireType: 0, read: varint32((v) => `${v} | 0`), initial: '0' },
  // rv32 returns the unsigned value; a one-byte varint is one already.
  uint32: { wireType: 0, read: varint32((v) => v), initial: '0' },
  bool: { wireType: 0, read: varint32((v) => `${v} !== 0`), initial: 'false' },
  int64: { wireType: 0, read: varint64('ri64'), initial: '0' },
  uint64: { wireType: 0, read: varint64('ru64'), initial: '0' },
  double: {
    wireType: 1,
    read: (target) => `${target} = H.dbl(buf, pos, end); pos += 8;`,
    initial: '0',
  },
};

interface FieldPlan {
  field: protobuf.Field;
  name: string;
  local: string;
  /** The oneof it belongs to (a proto3 `optional` field's synthetic one included). */
  oneof?: string;
}

function check(name: string, where: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`${where}: ${name} is not an identifier`);
  return name;
}

/**
 * Decoders of a message type and of every type it reaches, built once.
 * @throws Error when the schema uses a field type this decoder does not read (extend SCALARS).
 */
function buildDecoders(root: protobuf.Type): Decoder {
  const decoders: Decoder[] = [];
  const indexOf = new Map<string, number>();

  function build(type: protobuf.Type): number {
    const known = indexOf.get(type.fullName);
    if (known !== undefined) return known;
    const index = decoders.length;
    indexOf.set(type.fullName, index);
    decoders.push(() => {
      throw new Error(`decoder of ${type.fullName} is not built yet`);
    });
    const enums: Record<number, string>[] = [];
    const fields = type.fieldsArray.slice().sort((a, b) => a.id - b.id);
    const plans: FieldPlan[] = fields.map((field, i) => {
      field.resolve();
      return {
        field,
        name: check(field.name, type.fullName),
        local: `f${i}`,
        ...(field.partOf ? { oneof: check(field.partOf.name, type.fullName) } : {}),
      };
    });
    const maxNumber = fields.reduce((max, f) => Math.max(max, f.id), 0);
    const knownNumbers = new Uint8Array(Math.min(maxNumber, 1024) + 1);
    for (const f of fields) if (f.id < knownNumbers.length) knownNumbers[f.id] = 1;

    const declare: string[] = ['var v = 0, l = 0, n, t = 0, x;'];
    const cases: string[] = [];
    for (const plan of plans) {
      const { field, local } = plan;
      const nested = field.resolvedType;
      if (field.map) {
        const keyType = (field as unknown as protobuf.MapField).keyType;
        const valueScalar = SCALARS[field.type];
        if (keyType !== 'string' || !valueScalar || nested) {
          throw new Error(`${type.fullName}.${field.name}: only map<string, scalar> is supported`);
        }
        declare.push(`var ${local} = {};`);
        cases.push(`case ${(field.id << 3) | 2}: {
        ${LENGTH}
        var outer = end, k = "", mv = ${valueScalar.initial};
        end = l;
        while (pos < end) {
          if ((t = buf[pos]) < 128) pos++; else { t = H.rv32(buf, pos, end); pos = H.S.p; }
          if (t === 10) { ${SCALARS['string']!.read('k')} }
          else if (t === ${(2 << 3) | valueScalar.wireType}) { ${valueScalar.read('mv')} }
          else pos = H.skip(buf, pos, end, t, ENTRY_KNOWN);
        }
        end = outer;
        if (k === "__proto__") H.protoKey(${local}, mv); else ${local}[k] = mv;
        break;
      }`);
        continue;
      }
      let read: (target: string) => string;
      let wireType: number;
      let initial: string;
      if (isType(nested)) {
        const child = build(nested);
        read = (target) => `${LENGTH} ${target} = D[${child}](buf, pos, l); pos = l;`;
        wireType = 2;
        initial = 'null';
      } else if (isEnum(nested)) {
        const table: Record<number, string> = Object.create(null) as Record<number, string>;
        for (const [id, name] of Object.entries(nested.valuesById)) table[Number(id)] = name;
        enums.push(table);
        const e = enums.length - 1;
        const int32 = varint32((v) => `${v} | 0`);
        read = (target) => `${int32('n')} ${target} = (x = E[${e}][n]) === undefined ? n : x;`;
        wireType = 0;
        initial = JSON.stringify(nested.valuesById[0] ?? 0);
      } else {
        const scalar = SCALARS[field.type];
        if (!scalar) {
          throw new Error(`${type.fullName}.${field.name}: type ${field.type} is not supported`);
        }
        if (field.repeated && scalar.wireType !== 2) {
          throw new Error(
            `${type.fullName}.${field.name}: repeated ${field.type} is not supported`,
          );
        }
        read = scalar.read;
        wireType = scalar.wireType;
        initial = scalar.initial;
      }
      const tag = (field.id << 3) | wireType;
      if (field.repeated) {
        declare.push(`var ${local} = [];`);
        cases.push(`case ${tag}: { ${read('x')} ${local}.push(x); break; }`);
      } else {
        // Oneof members start undefined: absent ones are left out of the object.
        declare.push(`var ${local} = ${plan.oneof ? 'undefined' : initial};`);
        cases.push(`case ${tag}: { ${read(local)} break; }`);
      }
    }

    // The object, keys in protobufjs's toObject order: repeated, maps, then the other fields
    // outside oneofs (all by field number), then each oneof member present and its oneof's name.
    const plain = plans.filter((p) => !p.oneof);
    const base = [
      ...plain.filter((p) => p.field.repeated && !p.field.map),
      ...plain.filter((p) => p.field.map),
      ...plain.filter((p) => !p.field.repeated && !p.field.map),
    ].map((p) => `${JSON.stringify(p.name)}: ${p.local}`);
    const members = plans.filter((p) => p.oneof);
    const oneofs = [...new Set(members.map((p) => p.oneof!))];
    let build_: string;
    if (members.length === 0) {
      build_ = `return { ${base.join(', ')} };`;
    } else if (oneofs.length === 1) {
      // One literal per member, so each payload kind has one hidden class; several members at
      // once (never written by an encoder) go the slow way.
      const name = JSON.stringify(oneofs[0]);
      const lines = [`var present = 0, last = -1;`];
      members.forEach((p, i) => {
        lines.push(`if (${p.local} !== undefined) { present++; last = ${i}; }`);
      });
      lines.push(`switch (present === 1 ? last : present === 0 ? -1 : -2) {`);
      lines.push(`case -1: return { ${base.join(', ')} };`);
      members.forEach((p, i) => {
        lines.push(
          `case ${i}: return { ${[...base, `${JSON.stringify(p.name)}: ${p.local}`, `${name}: ${JSON.stringify(p.name)}`].join(', ')} };`,
        );
      });
      lines.push(`}`);
      lines.push(`var o = { ${base.join(', ')} };`);
      for (const p of members) {
        lines.push(
          `if (${p.local} !== undefined) { o[${JSON.stringify(p.name)}] = ${p.local}; o[${name}] = ${JSON.stringify(p.name)}; }`,
        );
      }
      lines.push('return o;');
      build_ = lines.join('\n');
    } else {
      const lines = [`var o = { ${base.join(', ')} };`];
      for (const p of members) {
        lines.push(
          `if (${p.local} !== undefined) { o[${JSON.stringify(p.name)}] = ${p.local}; o[${JSON.stringify(p.oneof)}] = ${JSON.stringify(p.name)}; }`,
        );
      }
      lines.push('return o;');
      build_ = lines.join('\n');
    }

    const source = `"use strict";
return function decode_${type.name}(buf, pos, end) {
  ${declare.join('\n  ')}
  while (pos < end) {
    if ((t = buf[pos]) < 128) pos++; else { t = H.rv32(buf, pos, end); pos = H.S.p; }
    switch (t) {
      ${cases.join('\n      ')}
      default: pos = H.skip(buf, pos, end, t, KNOWN);
    }
  }
  ${build_}
};`;
    // Generated from the schema's field names and numbers only (names checked to be
    // identifiers); no bytes or values are ever part of the source.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('H', 'D', 'E', 'KNOWN', 'ENTRY_KNOWN', source) as (
      h: typeof HELPERS,
      d: Decoder[],
      e: Record<number, string>[],
      known: Uint8Array,
      entryKnown: Uint8Array,
    ) => Decoder;
    decoders[index] = factory(HELPERS, decoders, enums, knownNumbers, ENTRY_KNOWN);
    return index;
  }

  return decoders[build(root)]!;
}

/** A map entry declares its key (1) and value (2). */
const ENTRY_KNOWN = new Uint8Array([0, 1, 1]);

const decoders = new Map<string, Decoder>();

function decoderOf(name: `mamori.v1.${string}`): Decoder {
  let decoder = decoders.get(name);
  if (!decoder) {
    decoder = buildDecoders(protoType(name));
    decoders.set(name, decoder);
  }
  return decoder;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes any message of the contract into the object `protoType(name).toObject(decode)` gives
 * with the loader's options (see the module comment for what differs on malformed bytes).
 * The decoder of a type is generated on first use.
 * @throws WireDecodeError when the bytes are not a valid encoding.
 */
export function decodeMessage<T = Record<string, unknown>>(
  name: `mamori.v1.${string}`,
  bytes: Uint8Array,
): T {
  const decode = decoderOf(name);
  const buf = asBuffer(bytes);
  state.src = bytes;
  return decode(buf, 0, buf.length) as T;
}

let eventDecoder: Decoder | undefined;

/**
 * Decodes an Event: the same object as `createEventCodec().decode`, several times faster.
 * @throws WireDecodeError when the bytes are not a valid encoding.
 */
export function decodeEvent(bytes: Uint8Array): Event__Output {
  eventDecoder ??= decoderOf('mamori.v1.Event');
  const buf = Buffer.isBuffer(bytes) ? bytes : asBuffer(bytes);
  state.src = bytes;
  return eventDecoder(buf, 0, buf.length) as unknown as Event__Output;
}
