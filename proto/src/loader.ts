import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { ProtoGrpcType } from './generated/defender.generated.js';
import type { Event, Event__Output } from './generated/mamori/v1/Event.generated.js';

/** Directory that holds `mamori/v1/*.proto` (the package root, from src/ or dist/). */
export const PROTO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How .proto messages become JavaScript objects, at run time and in the generated types
 * (package.json `generate` passes the same flags): field names as written in the .proto,
 * 64-bit integers as numbers (every int64 here is microseconds since the epoch, far below
 * 2^53), enums as their names, absent fields as defaults, and a virtual field naming the
 * oneof member that is set.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
} as const satisfies protoLoader.Options;

const CONVERSION = {
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies protobuf.IConversionOptions;

let grpcTypes: ProtoGrpcType | undefined;

/** The gRPC package of the contract (services and messages), loaded once. */
export function loadMamoriGrpc(): ProtoGrpcType {
  grpcTypes ??= grpc.loadPackageDefinition(
    protoLoader.loadSync('mamori/v1/defender.proto', PROTO_LOADER_OPTIONS),
  ) as unknown as ProtoGrpcType;
  return grpcTypes;
}

/** Encodes and decodes Events as the bytes of bus records. */
export interface EventCodec {
  /** Protobuf bytes of an event. @throws Error when a field has the wrong type. */
  encode(event: Event): Buffer;
  /** An event from protobuf bytes, shaped like the gRPC objects. @throws Error on bad bytes. */
  decode(bytes: Uint8Array): Event__Output;
}

let root: protobuf.Root | undefined;

/**
 * The protobufjs reflection of every message of the contract, with field names as written in
 * the .proto files (the same names as the gRPC objects), loaded once.
 * @throws Error when a message of that name does not exist.
 */
export function protoType(name: `mamori.v1.${string}`): protobuf.Type {
  if (!root) {
    const loaded = new protobuf.Root();
    loaded.resolvePath = (_origin, target) => `${PROTO_ROOT}/${target}`;
    loaded.loadSync('mamori/v1/defender.proto', { keepCase: true });
    loaded.resolveAll();
    root = loaded;
  }
  return root.lookupType(name);
}

/** The codec of bus records holding Events: the same messages as on the gRPC stream. */
export function createEventCodec(): EventCodec {
  const type = protoType('mamori.v1.Event');
  return {
    encode(event) {
      const bytes = type.encode(type.fromObject(event)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode(bytes) {
      // The plain Reader, not the Buffer one: protobufjs's BufferReader silently clamps a
      // string that runs past the end, which would turn a truncated record into a
      // plausible event instead of an error.
      return type.toObject(type.decode(new protobuf.Reader(bytes)), CONVERSION) as Event__Output;
    },
  };
}
