import type { Rejection } from '@mamori/proto';
import type { WireBatch } from '../wire/agent-message.js';
import {
  checkStructure,
  createFieldRef,
  forEachField,
  lookup,
  fieldPath,
  loadEventWireSchema,
  WireType,
  type WireMessage,
} from '@mamori/proto/wire';

/** Limits a batch and its events are checked against. */
export interface ValidationLimits {
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Largest encoded event, in bytes. */
  maxEventBytes: number;
  /** Longest event id, in characters. */
  maxIdLength: number;
  /** How far in the future an observed time may be (clock skew), in microseconds. */
  maxFutureMicros: number;
  /** How old an observed time may be, in microseconds. */
  maxAgeMicros: number;
  /** Most labels on one event. */
  maxLabels: number;
}

/** One event that passed, with what ingest learnt of it. */
export interface ValidEvent {
  index: number;
  /** The payload kind: the name of the oneof member that is set, e.g. "process_exec". */
  kind: string;
}

/** Outcome of validating one batch. */
export interface BatchVerdict {
  /** The batch as a whole is unusable; nothing in it may be accepted. */
  batchError?: Rejection;
  valid: ValidEvent[];
  /** One entry per refused event, naming the field. */
  rejections: Rejection[];
}

type Requirement =
  | { rule: 'present' | 'text'; path: string }
  | { rule: 'range'; path: string; min: number; max: number; reason: string };

/** Fields each payload kind must carry. Anything not listed is optional by design. */
const REQUIREMENTS: Record<string, Requirement[]> = (() => {
  const process = (kind: string): Requirement[] => [
    { rule: 'present', path: `${kind}.process` },
    {
      rule: 'range',
      path: `${kind}.process.pid`,
      min: 1,
      max: 2 ** 31 - 1,
      reason: 'must be a positive process id',
    },
  ];
  const connection = (kind: string, remote: boolean): Requirement[] => [
    ...process(kind),
    { rule: 'present', path: `${kind}.connection` },
    {
      rule: 'range',
      path: `${kind}.connection.protocol`,
      min: 1,
      max: 2,
      reason: 'must be L4_PROTOCOL_TCP or L4_PROTOCOL_UDP',
    },
    {
      rule: 'range',
      path: `${kind}.connection.local_port`,
      min: 0,
      max: 65_535,
      reason: 'must be at most 65535',
    },
    {
      rule: 'range',
      path: `${kind}.connection.remote_port`,
      min: 0,
      max: 65_535,
      reason: 'must be at most 65535',
    },
    ...(remote ? [{ rule: 'text', path: `${kind}.connection.remote_address` } as const] : []),
  ];
  return {
    // The name (comm), not the executable's path: a sensor knows the name of every exec, but
    // cannot read /proc/<pid>/exe of a process gone within a millisecond, or of another user's.
    process_exec: [...process('process_exec'), { rule: 'text', path: 'process_exec.process.name' }],
    process_exit: process('process_exit'),
    file_open: [...process('file_open'), { rule: 'text', path: 'file_open.path' }],
    // Changes seen through inotify (the defender's file sensor) carry no process: the kernel
    // does not say who made them. The path is what they are about.
    file_write: [{ rule: 'text', path: 'file_write.path' }],
    file_rename: [
      { rule: 'text', path: 'file_rename.old_path' },
      { rule: 'text', path: 'file_rename.new_path' },
    ],
    file_delete: [{ rule: 'text', path: 'file_delete.path' }],
    network_connect: connection('network_connect', true),
    network_accept: connection('network_accept', true),
    network_listen: connection('network_listen', false),
    file_link: [
      ...process('file_link'),
      { rule: 'text', path: 'file_link.target' },
      { rule: 'text', path: 'file_link.link_path' },
    ],
    file_symlink: [
      ...process('file_symlink'),
      { rule: 'text', path: 'file_symlink.target' },
      { rule: 'text', path: 'file_symlink.link_path' },
    ],
    kernel_module_load: [
      ...process('kernel_module_load'),
      { rule: 'text', path: 'kernel_module_load.name' },
    ],
    process_ptrace: [
      ...process('process_ptrace'),
      { rule: 'text', path: 'process_ptrace.request' },
    ],
    network_socket: [...process('network_socket'), { rule: 'text', path: 'network_socket.domain' }],
    fd_dup: [
      ...process('fd_dup'),
      {
        rule: 'range',
        path: 'fd_dup.old_fd',
        min: 0,
        max: 2 ** 31 - 1,
        reason: 'must be a descriptor number (0 or more)',
      },
      {
        rule: 'range',
        path: 'fd_dup.new_fd',
        min: 0,
        max: 2 ** 31 - 1,
        reason: 'must be a descriptor number (0 or more)',
      },
    ],
    dns_query: [{ rule: 'text', path: 'dns_query.query' }],
    http_request: [
      { rule: 'text', path: 'http_request.method' },
      { rule: 'text', path: 'http_request.url' },
    ],
    http_response: [
      {
        rule: 'range',
        path: 'http_response.status',
        min: 100,
        max: 599,
        reason: 'must be an HTTP status (100-599)',
      },
    ],
    scanner_finding: [
      { rule: 'range', path: 'scanner_finding.severity', min: 1, max: 5, reason: 'must be set' },
      { rule: 'text', path: 'scanner_finding.scanner' },
      { rule: 'text', path: 'scanner_finding.target' },
      { rule: 'text', path: 'scanner_finding.rule_id' },
    ],
    enforcement: [
      { rule: 'text', path: 'enforcement.action' },
      { rule: 'text', path: 'enforcement.rule_id' },
    ],
  };
})();

interface CompiledRequirement {
  path: string;
  numbers: number[];
  check: (found: boolean, wireType: number, value: number) => string | undefined;
}

interface CompiledSchema {
  event: WireMessage;
  /** Payload field number → kind name and requirements. */
  payloads: Map<number, { kind: string; requirements: CompiledRequirement[] }>;
  id: number;
  observed: number;
  labels: number;
}

let compiled: CompiledSchema | undefined;

function compileSchema(): CompiledSchema {
  if (compiled) return compiled;
  const event = loadEventWireSchema();
  const payloads = new Map<number, { kind: string; requirements: CompiledRequirement[] }>();
  for (const [kind, requirements] of Object.entries(REQUIREMENTS)) {
    payloads.set(fieldPath(event, kind)[0]!, {
      kind,
      requirements: requirements.map((req): CompiledRequirement => {
        const numbers = fieldPath(event, req.path);
        switch (req.rule) {
          case 'present':
            return {
              path: req.path,
              numbers,
              check: (found) => (found ? undefined : 'is required'),
            };
          case 'text':
            return {
              path: req.path,
              numbers,
              check: (found, wireType, length) =>
                found && wireType === WireType.len && length > 0 ? undefined : 'is required',
            };
          case 'range':
            return {
              path: req.path,
              numbers,
              check: (found, _wireType, value) => {
                const n = found ? value : 0;
                return n >= req.min && n <= req.max ? undefined : req.reason;
              },
            };
        }
      }),
    });
  }
  // Every oneof member must have requirements, so a new payload kind cannot slip through
  // unvalidated: fail at start-up, not in production traffic.
  for (const field of event.byName.values()) {
    if (field.number >= 20 && !payloads.has(field.number))
      throw new Error(`no validation requirements for payload ${field.name}`);
  }
  compiled = {
    event,
    payloads,
    id: fieldPath(event, 'id')[0]!,
    observed: fieldPath(event, 'observed_unix_micros')[0]!,
    labels: fieldPath(event, 'labels')[0]!,
  };
  return compiled;
}

// Event ids are chosen by agents; keep them to a plain, log-safe alphabet (UUIDs, ULIDs,
// KSUIDs and similar all fit).
const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** Reads the id of an event for a rejection, bounded, or '' when it has none. */
function eventId(bytes: Buffer, schema: CompiledSchema, limit: number): string {
  const ref = lookup(bytes, 0, bytes.length, [schema.id], createFieldRef());
  if (!ref.found || ref.wireType !== WireType.len) return '';
  const id = bytes.toString('latin1', ref.start, Math.min(ref.end, ref.start + limit));
  return ID_PATTERN.test(id) ? id : '';
}

/**
 * Checks one encoded event and returns its payload kind, or the first problem as
 * [field, reason]. `nowMicros` is the server's clock.
 */
export function checkEvent(
  bytes: Buffer,
  limits: ValidationLimits,
  nowMicros: number,
): { kind: string; id: string } | [field: string, reason: string] {
  const schema = compileSchema();
  if (bytes.length > limits.maxEventBytes)
    return ['', `is ${bytes.length} bytes, more than the limit of ${limits.maxEventBytes}`];
  const problem = checkStructure(bytes, 0, bytes.length, schema.event);
  if (problem) return [problem[0], `malformed protobuf: ${problem[1]}`];

  let idStart = 0;
  let idEnd = 0;
  let observed = 0;
  let labels = 0;
  let payloadNumber = 0;
  let payloadStart = 0;
  let payloadEnd = 0;
  forEachField(bytes, 0, bytes.length, (number, wireType, value, start, end) => {
    if (number === schema.id && wireType === WireType.len) {
      idStart = start;
      idEnd = end;
    } else if (number === schema.observed && wireType === WireType.varint) {
      observed = value;
    } else if (number === schema.labels) {
      labels++;
    } else if (wireType === WireType.len && schema.payloads.has(number)) {
      payloadNumber = number;
      payloadStart = start;
      payloadEnd = end;
    }
  });

  if (idEnd === idStart) return ['id', 'is required'];
  if (idEnd - idStart > limits.maxIdLength)
    return ['id', `is longer than ${limits.maxIdLength} characters`];
  const id = bytes.toString('latin1', idStart, idEnd);
  if (!ID_PATTERN.test(id)) return ['id', 'may contain only letters, digits and . _ : -'];
  if (!Number.isSafeInteger(observed) || observed <= 0)
    return ['observed_unix_micros', 'is required'];
  if (observed > nowMicros + limits.maxFutureMicros) {
    return [
      'observed_unix_micros',
      `is more than ${Math.round(limits.maxFutureMicros / 1e6)} s in the future`,
    ];
  }
  if (observed < nowMicros - limits.maxAgeMicros) {
    return [
      'observed_unix_micros',
      `is more than ${Math.round(limits.maxAgeMicros / 3.6e9)} h in the past`,
    ];
  }
  if (labels > limits.maxLabels) return ['labels', `has more than ${limits.maxLabels} entries`];
  const payload = schema.payloads.get(payloadNumber);
  if (!payload) return ['payload', 'one payload kind must be set'];

  const ref = createFieldRef();
  for (const requirement of payload.requirements) {
    // Paths start at the payload field; look inside its bytes for the rest.
    lookup(bytes, payloadStart, payloadEnd, requirement.numbers.slice(1), ref);
    const reason = requirement.check(ref.found, ref.wireType, ref.value);
    if (reason) return [requirement.path, reason];
  }
  return { kind: payload.kind, id };
}

/**
 * Validates a batch: the batch itself (sequence, size), then every event. Duplicate ids
 * inside one batch are refused after the first.
 */
export function validateBatch(
  batch: WireBatch,
  limits: ValidationLimits,
  nowMicros: number,
): BatchVerdict {
  const sequence = batch.sequence;
  const batchError = (field: string, reason: string): BatchVerdict => ({
    batchError: { index: -1, field, reason },
    valid: [],
    rejections: [],
  });
  if (!Number.isSafeInteger(sequence) || sequence <= 0)
    return batchError('sequence', 'must be a positive integer');
  if (batch.events.length === 0) return batchError('events', 'a batch needs at least one event');
  if (batch.events.length > limits.maxBatchEvents) {
    return batchError(
      'events',
      `has ${batch.events.length} events, more than the limit of ${limits.maxBatchEvents}`,
    );
  }
  const schema = compileSchema();
  const valid: ValidEvent[] = [];
  const rejections: Rejection[] = [];
  const seen = new Set<string>();
  batch.events.forEach((bytes, index) => {
    let result = checkEvent(bytes, limits, nowMicros);
    if (!Array.isArray(result) && seen.has(result.id))
      result = ['id', 'repeats an earlier event of the same batch'];
    if (Array.isArray(result)) {
      const [field, reason] = result;
      rejections.push({
        index,
        event_id: eventId(bytes, schema, limits.maxIdLength),
        field: field ? `events[${index}].${field}` : `events[${index}]`,
        reason,
      });
    } else {
      seen.add(result.id);
      valid.push({ index, kind: result.kind });
    }
  });
  return { valid, rejections };
}
