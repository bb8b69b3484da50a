import { protoType, type CommandResult__Output, type Hello__Output } from '@mamori/proto';
import {
  checkStructure,
  forEachField,
  WireType,
  wireMessage,
  type WireField,
  type WireProblem,
} from '@mamori/proto/wire';

/** A batch as it came off the wire: its sequence and each event's bytes, undecoded. */
export interface WireBatch {
  sequence: number;
  /** Views into the received message; each is one encoded `mamori.v1.Event`. */
  events: Buffer[];
  /** Size of the batch as received (its events and their framing), in bytes. */
  bytes: number;
  /** Events the agent dropped since its previous batch, by priority (EventBatch 3 and 4). */
  droppedLow: number;
  droppedHigh: number;
}

/** An agent message after ingest's own deserializer. */
export type IncomingMessage =
  | { message: 'hello'; hello: Hello__Output }
  | { message: 'batch'; batch: WireBatch }
  | { message: 'command_result'; command_result: CommandResult__Output }
  | { message: 'invalid'; reason: string };

const CONVERSION = { longs: Number, enums: String, defaults: true, oneofs: true } as const;

// AgentMessage field numbers (mamori/v1/defender.proto).
const HELLO = 1;
const BATCH = 2;
const COMMAND_RESULT = 3;
// EventBatch field numbers.
const SEQUENCE = 1;
const EVENTS = 2;
const DROPPED_LOW = 3;
const DROPPED_HIGH = 4;

/**
 * The gRPC request deserializer of Connect. Hellos and command results are decoded as usual;
 * a batch is split into its events' bytes without decoding them, because ingest validates
 * events on the wire and forwards the very bytes it received to the bus. A malformed message
 * becomes `invalid` with a reason instead of an exception, so the stream can say what was wrong.
 */
export function createAgentMessageDeserializer(): (bytes: Buffer) => IncomingMessage {
  const helloType = protoType('mamori.v1.Hello');
  const resultType = protoType('mamori.v1.CommandResult');
  // Only the envelope is checked here; events are checked one by one during validation.
  const envelope = wireMessage('mamori.v1.AgentMessage', [
    lenField('hello', HELLO),
    lenField('batch', BATCH),
    lenField('command_result', COMMAND_RESULT),
  ]);

  return (bytes) => {
    const problem: WireProblem | undefined = checkStructure(bytes, 0, bytes.length, envelope);
    if (problem) return { message: 'invalid', reason: `${problem[0] || 'message'}: ${problem[1]}` };
    let kind = 0;
    let start = 0;
    let end = 0;
    forEachField(bytes, 0, bytes.length, (number, wireType, _value, contentStart, contentEnd) => {
      if (wireType === WireType.len && number >= HELLO && number <= COMMAND_RESULT) {
        kind = number;
        start = contentStart;
        end = contentEnd;
      }
    });
    try {
      switch (kind) {
        case HELLO:
          return {
            message: 'hello',
            hello: helloType.toObject(
              helloType.decode(bytes.subarray(start, end)),
              CONVERSION,
            ) as Hello__Output,
          };
        case COMMAND_RESULT:
          return {
            message: 'command_result',
            command_result: resultType.toObject(
              resultType.decode(bytes.subarray(start, end)),
              CONVERSION,
            ) as CommandResult__Output,
          };
        case BATCH:
          return readBatch(bytes, start, end);
        default:
          return {
            message: 'invalid',
            reason: 'message: one of hello, batch or command_result must be set',
          };
      }
    } catch (err) {
      return {
        message: 'invalid',
        reason: `${['', 'hello', 'batch', 'command_result'][kind]}: malformed (${(err as Error).message})`,
      };
    }
  };
}

const BATCH_SCHEMA = wireMessage('mamori.v1.EventBatch', [
  {
    name: 'sequence',
    number: SEQUENCE,
    wireType: WireType.varint,
    repeated: false,
    packable: false,
  },
  { ...lenField('events', EVENTS), repeated: true },
]);

function lenField(name: string, number: number): WireField {
  return { name, number, wireType: WireType.len, repeated: false, packable: false };
}

function readBatch(bytes: Buffer, start: number, end: number): IncomingMessage {
  const problem = checkStructure(bytes, start, end, BATCH_SCHEMA);
  if (problem)
    return {
      message: 'invalid',
      reason: `batch${problem[0] ? `.${problem[0]}` : ''}: ${problem[1]}`,
    };
  const batch: WireBatch = {
    sequence: 0,
    events: [],
    bytes: end - start,
    droppedLow: 0,
    droppedHigh: 0,
  };
  forEachField(bytes, start, end, (number, wireType, value, contentStart, contentEnd) => {
    if (number === SEQUENCE && wireType === WireType.varint) batch.sequence = value;
    else if (number === EVENTS && wireType === WireType.len)
      batch.events.push(bytes.subarray(contentStart, contentEnd));
    else if (number === DROPPED_LOW && wireType === WireType.varint) batch.droppedLow = value;
    else if (number === DROPPED_HIGH && wireType === WireType.varint) batch.droppedHigh = value;
  });
  return { message: 'batch', batch };
}
