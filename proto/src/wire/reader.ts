import { DIRECT_FIELDS, WireType, type WireField, type WireMessage } from './schema.js';

/**
 * Reading protobuf bytes without materialising them: ingest checks an event's structure
 * and the few values it validates straight from the bytes it received, and forwards those
 * same bytes to the bus. Nothing here allocates per field.
 */

/** Where one field was found: its wire type, its value (varint) or its byte range. */
export interface FieldRef {
  found: boolean;
  wireType: number;
  /** The varint value (exact up to 2^53), or the length of a length-delimited field. */
  value: number;
  /** Byte range of a length-delimited field's content. */
  start: number;
  end: number;
}

export function createFieldRef(): FieldRef {
  return { found: false, wireType: 0, value: 0, start: 0, end: 0 };
}

/** Position after the last varint read; -1 when it was truncated or longer than 10 bytes. */
let varintEnd = 0;

/** Where the varint read last by `readVarint` ended; -1 when it was truncated or too long. */
export function lastVarintEnd(): number {
  return varintEnd;
}

/**
 * The varint at `pos` (exact up to 2^53); `lastVarintEnd()` tells where it ended. Reads
 * nothing past `end`.
 */
export function readVarint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) break;
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  varintEnd = -1;
  return 0;
}

/** A field's name for a problem report (parents prefix theirs). */
function nameOf(field: WireField | undefined, number: number): string {
  return field ? field.name : `[field ${number}]`;
}

/** A structural problem: the dotted path of the field and what is wrong. */
export type WireProblem = [path: string, reason: string];

const WIRE_TYPE_NAMES = [
  'varint',
  '64-bit',
  'length-delimited',
  'group start',
  'group end',
  '32-bit',
  '6',
  '7',
];

/**
 * Checks that bytes are a well-formed encoding of `message`: every tag readable, every
 * length within bounds, every known field with the wire type its declaration demands,
 * recursively. Unknown fields are allowed (newer agents), groups are not.
 */
export function checkStructure(
  buf: Uint8Array,
  start: number,
  end: number,
  message: WireMessage,
): WireProblem | undefined {
  let pos = start;
  while (pos < end) {
    let tag = buf[pos]!;
    if (tag < 0x80) {
      pos++;
    } else {
      tag = readVarint(buf, pos, end);
      if (varintEnd < 0) return ['', `truncated field tag at byte ${pos - start}`];
      pos = varintEnd;
    }
    const number = Math.floor(tag / 8);
    const wireType = tag & 7;
    const field = number < DIRECT_FIELDS ? message.direct[number] : message.byNumber.get(number);
    if (number === 0) return ['', 'has a field number 0'];
    if (field && wireType !== field.wireType && !(field.packable && wireType === WireType.len)) {
      return [
        nameOf(field, number),
        `has wire type ${WIRE_TYPE_NAMES[wireType]}, expected ${WIRE_TYPE_NAMES[field.wireType]}`,
      ];
    }
    switch (wireType) {
      case WireType.varint:
        readVarint(buf, pos, end);
        if (varintEnd < 0) return [nameOf(field, number), 'truncated varint'];
        pos = varintEnd;
        break;
      case WireType.fixed64:
        pos += 8;
        break;
      case WireType.fixed32:
        pos += 4;
        break;
      case WireType.len: {
        const length = readVarint(buf, pos, end);
        if (varintEnd < 0) return [nameOf(field, number), 'truncated length'];
        const contentStart = varintEnd;
        const contentEnd = contentStart + length;
        if (contentEnd > end)
          return [nameOf(field, number), `length ${length} runs past the end of the message`];
        if (field?.message) {
          const problem = checkStructure(buf, contentStart, contentEnd, field.message);
          if (problem)
            return [
              problem[0] ? `${nameOf(field, number)}.${problem[0]}` : nameOf(field, number),
              problem[1],
            ];
        }
        pos = contentEnd;
        break;
      }
      default:
        return [
          nameOf(field, number),
          `has wire type ${WIRE_TYPE_NAMES[wireType]}, which proto3 does not use`,
        ];
    }
    if (pos > end) return [nameOf(field, number), 'runs past the end of the message'];
  }
  return undefined;
}

/**
 * Calls `fn` for every field of one message level (no recursion), in order. `value` is the
 * varint value or the length; `contentStart`/`contentEnd` the bytes of a length-delimited
 * field. Assumes checkStructure passed.
 */
export function forEachField(
  buf: Uint8Array,
  start: number,
  end: number,
  fn: (
    number: number,
    wireType: number,
    value: number,
    contentStart: number,
    contentEnd: number,
  ) => void,
): void {
  let pos = start;
  while (pos < end) {
    const tag = readVarint(buf, pos, end);
    if (varintEnd < 0) return;
    pos = varintEnd;
    const number = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === WireType.varint) {
      const value = readVarint(buf, pos, end);
      if (varintEnd < 0) return;
      fn(number, wireType, value, pos, varintEnd);
      pos = varintEnd;
    } else if (wireType === WireType.len) {
      const length = readVarint(buf, pos, end);
      if (varintEnd < 0) return;
      fn(number, wireType, length, varintEnd, varintEnd + length);
      pos = varintEnd + length;
    } else if (wireType === WireType.fixed64) {
      fn(number, wireType, 0, pos, pos + 8);
      pos += 8;
    } else if (wireType === WireType.fixed32) {
      fn(number, wireType, 0, pos, pos + 4);
      pos += 4;
    } else {
      return;
    }
  }
}

/**
 * Finds the field at a path of field numbers (the last occurrence wins at every level, as
 * protobuf parsers do for singular fields) and fills `out`. Assumes checkStructure passed.
 */
export function lookup(
  buf: Uint8Array,
  start: number,
  end: number,
  path: readonly number[],
  out: FieldRef,
): FieldRef {
  out.found = false;
  let from = start;
  let to = end;
  for (let depth = 0; depth < path.length; depth++) {
    const wanted = path[depth]!;
    let found = false;
    let pos = from;
    let nextFrom = 0;
    let nextTo = 0;
    while (pos < to) {
      const tag = readVarint(buf, pos, to);
      if (varintEnd < 0) break;
      pos = varintEnd;
      const number = Math.floor(tag / 8);
      const wireType = tag & 7;
      if (wireType === WireType.varint) {
        const value = readVarint(buf, pos, to);
        if (varintEnd < 0) break;
        if (number === wanted) {
          found = true;
          out.wireType = wireType;
          out.value = value;
          out.start = pos;
          out.end = varintEnd;
        }
        pos = varintEnd;
      } else if (wireType === WireType.len) {
        const length = readVarint(buf, pos, to);
        if (varintEnd < 0) break;
        if (number === wanted) {
          found = true;
          out.wireType = wireType;
          out.value = length;
          out.start = varintEnd;
          out.end = varintEnd + length;
          nextFrom = out.start;
          nextTo = out.end;
        }
        pos = varintEnd + length;
      } else if (wireType === WireType.fixed64 || wireType === WireType.fixed32) {
        const size = wireType === WireType.fixed64 ? 8 : 4;
        if (number === wanted) {
          found = true;
          out.wireType = wireType;
          out.value = 0;
          out.start = pos;
          out.end = pos + size;
        }
        pos += size;
      } else {
        break;
      }
    }
    if (!found) return out;
    if (depth < path.length - 1) {
      if (out.wireType !== WireType.len) return out;
      from = nextFrom;
      to = nextTo;
    }
  }
  out.found = true;
  return out;
}

/** Appends a varint to `out` at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

/** Bytes a varint of `value` takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}
