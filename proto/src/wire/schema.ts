import type protobuf from 'protobufjs';
import { protoType } from '../loader.js';

/** Wire types of the protobuf encoding. */
export const WireType = { varint: 0, fixed64: 1, len: 2, fixed32: 5 } as const;

/** What ingest needs to know of one field to check bytes against the schema. */
export interface WireField {
  name: string;
  number: number;
  /** The wire type an unpacked value of this field must have. */
  wireType: number;
  repeated: boolean;
  /** Repeated numeric fields may also arrive packed, as one length-delimited run. */
  packable: boolean;
  /** For message fields and map entries: the schema of what is inside. */
  message?: WireMessage;
}

/** A message's fields by number and by name. */
export interface WireMessage {
  name: string;
  byNumber: Map<number, WireField>;
  byName: Map<string, WireField>;
  /** Fields with numbers below DIRECT_FIELDS, indexed by number: the hot path's lookup. */
  direct: (WireField | undefined)[];
}

/** Field numbers below this are looked up by array index instead of by Map. */
export const DIRECT_FIELDS = 64;

/** A WireMessage from its fields. */
export function wireMessage(name: string, fields: readonly WireField[]): WireMessage {
  const message: WireMessage = { name, byNumber: new Map(), byName: new Map(), direct: [] };
  for (const field of fields) addField(message, field);
  return message;
}

function addField(message: WireMessage, field: WireField): void {
  message.byNumber.set(field.number, field);
  message.byName.set(field.name, field);
  if (field.number < DIRECT_FIELDS) message.direct[field.number] = field;
}

const VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED64 = new Set(['fixed64', 'sfixed64', 'double']);
const FIXED32 = new Set(['fixed32', 'sfixed32', 'float']);

function scalarWireType(type: string): number {
  if (VARINT.has(type)) return WireType.varint;
  if (FIXED64.has(type)) return WireType.fixed64;
  if (FIXED32.has(type)) return WireType.fixed32;
  return WireType.len;
}

// Duck-typed rather than `instanceof`, so that a second copy of protobufjs in node_modules
// cannot silently change the schema.
function messageType(type: protobuf.ReflectionObject | null): protobuf.Type | undefined {
  return type !== null && 'fieldsArray' in type ? (type as protobuf.Type) : undefined;
}

function isEnum(type: protobuf.ReflectionObject | null): boolean {
  return type !== null && 'values' in type && !('fieldsArray' in type);
}

function compile(type: protobuf.Type, cache: Map<string, WireMessage>): WireMessage {
  const cached = cache.get(type.fullName);
  if (cached) return cached;
  const message = wireMessage(type.fullName, []);
  cache.set(type.fullName, message);
  for (const field of type.fieldsArray) {
    field.resolve();
    let wire: WireField;
    const nested = messageType(field.resolvedType);
    if (field.map) {
      // A map is a repeated entry message { 1: key, 2: value }.
      const valueType = nested ? compile(nested, cache) : undefined;
      const entry = wireMessage(`${type.fullName}.${field.name}.entry`, []);
      const key: WireField = {
        name: 'key',
        number: 1,
        wireType: scalarWireType((field as unknown as protobuf.MapField).keyType),
        repeated: false,
        packable: false,
      };
      const value: WireField = {
        name: 'value',
        number: 2,
        wireType: valueType
          ? WireType.len
          : scalarWireType(isEnum(field.resolvedType) ? 'int32' : field.type),
        repeated: false,
        packable: false,
        ...(valueType ? { message: valueType } : {}),
      };
      addField(entry, key);
      addField(entry, value);
      wire = {
        name: field.name,
        number: field.id,
        wireType: WireType.len,
        repeated: true,
        packable: false,
        message: entry,
      };
    } else if (nested) {
      wire = {
        name: field.name,
        number: field.id,
        wireType: WireType.len,
        repeated: field.repeated,
        packable: false,
        message: compile(nested, cache),
      };
    } else {
      const wireType = isEnum(field.resolvedType) ? WireType.varint : scalarWireType(field.type);
      wire = {
        name: field.name,
        number: field.id,
        wireType,
        repeated: field.repeated,
        packable: field.repeated && wireType !== WireType.len,
      };
    }
    addField(message, wire);
  }
  return message;
}

let eventSchema: WireMessage | undefined;

/** The wire schema of `mamori.v1.Event`, compiled once from the .proto files. */
export function loadEventWireSchema(): WireMessage {
  if (!eventSchema) {
    eventSchema = compile(protoType('mamori.v1.Event'), new Map());
  }
  return eventSchema;
}

/**
 * The field numbers along a dotted path of field names, e.g. "process_exec.process.pid" →
 * [20, 1, 1].
 * @throws Error when a name is not a field (a programming error in a rule table).
 */
export function fieldPath(schema: WireMessage, path: string): number[] {
  const numbers: number[] = [];
  let message: WireMessage | undefined = schema;
  for (const name of path.split('.')) {
    const field: WireField | undefined = message?.byName.get(name);
    if (!field) throw new Error(`${schema.name} has no field path ${path}`);
    numbers.push(field.number);
    message = field.message;
  }
  return numbers;
}
