import type { Event__Output, EventBatch__Output, Rejection } from '@mamori/proto';

/** Limits a batch and its events are checked against. */
export interface ValidationLimits {
  /** Most events in one batch. */
  maxBatchEvents: number;
  /** Longest event id, in characters. */
  maxIdLength: number;
  /** How far in the future an observed time may be (clock skew), in microseconds. */
  maxFutureMicros: number;
  /** How old an observed time may be, in microseconds. */
  maxAgeMicros: number;
  /** Most labels on one event. */
  maxLabels: number;
}

/** Outcome of validating one batch. */
export interface BatchVerdict {
  /** The batch as a whole is unusable; nothing in it may be accepted. */
  batchError?: Rejection;
  /** Indexes (into batch.events) of the events that passed. */
  valid: number[];
  /** One entry per refused event, naming the field. */
  rejections: Rejection[];
}

// Event ids are chosen by agents; keep them to a plain, log-safe alphabet (UUIDs, ULIDs,
// KSUIDs and similar all fit).
const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

type PayloadCheck = (event: Event__Output) => [field: string, reason: string] | undefined;

function needProcess(process: { pid: number } | null | undefined, at: string): [string, string] | undefined {
  if (!process) return [`${at}.process`, 'is required'];
  if (!Number.isInteger(process.pid) || process.pid <= 0) return [`${at}.process.pid`, 'must be a positive process id'];
  return undefined;
}

function needText(value: string, field: string): [string, string] | undefined {
  return value === '' ? [field, 'is required'] : undefined;
}

function needConnection(
  connection: Event__Output['network_connect'] extends infer N ? (N extends { connection: infer C } ? C : never) : never,
  at: string,
  needRemote: boolean,
): [string, string] | undefined {
  if (!connection) return [`${at}.connection`, 'is required'];
  if (connection.protocol === 'L4_PROTOCOL_UNSPECIFIED' || typeof connection.protocol === 'number') {
    return [`${at}.connection.protocol`, 'must be L4_PROTOCOL_TCP or L4_PROTOCOL_UDP'];
  }
  if (connection.local_port > 65_535) return [`${at}.connection.local_port`, 'must be at most 65535'];
  if (connection.remote_port > 65_535) return [`${at}.connection.remote_port`, 'must be at most 65535'];
  if (needRemote && connection.remote_address === '') return [`${at}.connection.remote_address`, 'is required'];
  return undefined;
}

/** Per-payload required fields. Anything not listed here is optional by design. */
const PAYLOAD_CHECKS: Record<NonNullable<Event__Output['payload']>, PayloadCheck> = {
  process_exec: (e) =>
    needProcess(e.process_exec?.process, 'process_exec') ??
    needText(e.process_exec!.process!.exe, 'process_exec.process.exe'),
  process_exit: (e) => needProcess(e.process_exit?.process, 'process_exit'),
  file_open: (e) => needProcess(e.file_open?.process, 'file_open') ?? needText(e.file_open!.path, 'file_open.path'),
  file_write: (e) =>
    needProcess(e.file_write?.process, 'file_write') ?? needText(e.file_write!.path, 'file_write.path'),
  file_rename: (e) =>
    needProcess(e.file_rename?.process, 'file_rename') ??
    needText(e.file_rename!.old_path, 'file_rename.old_path') ??
    needText(e.file_rename!.new_path, 'file_rename.new_path'),
  file_delete: (e) =>
    needProcess(e.file_delete?.process, 'file_delete') ?? needText(e.file_delete!.path, 'file_delete.path'),
  network_connect: (e) =>
    needProcess(e.network_connect?.process, 'network_connect') ??
    needConnection(e.network_connect!.connection, 'network_connect', true),
  network_accept: (e) =>
    needProcess(e.network_accept?.process, 'network_accept') ??
    needConnection(e.network_accept!.connection, 'network_accept', true),
  network_listen: (e) =>
    needProcess(e.network_listen?.process, 'network_listen') ??
    needConnection(e.network_listen!.connection, 'network_listen', false),
  dns_query: (e) => needText(e.dns_query!.query, 'dns_query.query'),
  http_request: (e) =>
    needText(e.http_request!.method, 'http_request.method') ?? needText(e.http_request!.url, 'http_request.url'),
  http_response: (e) => {
    const status = e.http_response!.status;
    return status < 100 || status > 599 ? ['http_response.status', 'must be an HTTP status (100-599)'] : undefined;
  },
  scanner_finding: (e) => {
    const finding = e.scanner_finding!;
    if (finding.severity === 'SEVERITY_UNSPECIFIED' || typeof finding.severity === 'number') {
      return ['scanner_finding.severity', 'must be set'];
    }
    return (
      needText(finding.scanner, 'scanner_finding.scanner') ??
      needText(finding.target, 'scanner_finding.target') ??
      needText(finding.rule_id, 'scanner_finding.rule_id')
    );
  },
};

/**
 * The first problem of one event, as [field, reason], or undefined when it is valid.
 * `nowMicros` is the server's clock.
 */
export function checkEvent(
  event: Event__Output,
  limits: ValidationLimits,
  nowMicros: number,
): [field: string, reason: string] | undefined {
  if (event.id === '') return ['id', 'is required'];
  if (event.id.length > limits.maxIdLength) return ['id', `is longer than ${limits.maxIdLength} characters`];
  if (!ID_PATTERN.test(event.id)) return ['id', 'may contain only letters, digits and . _ : -'];
  const observed = event.observed_unix_micros;
  if (!Number.isSafeInteger(observed) || observed <= 0) return ['observed_unix_micros', 'is required'];
  if (observed > nowMicros + limits.maxFutureMicros) {
    return ['observed_unix_micros', `is more than ${Math.round(limits.maxFutureMicros / 1e6)} s in the future`];
  }
  if (observed < nowMicros - limits.maxAgeMicros) {
    return ['observed_unix_micros', `is more than ${Math.round(limits.maxAgeMicros / 3.6e9)} h in the past`];
  }
  if (Object.keys(event.labels).length > limits.maxLabels) return ['labels', `has more than ${limits.maxLabels} entries`];
  if (!event.payload) return ['payload', 'one payload kind must be set'];
  return PAYLOAD_CHECKS[event.payload](event);
}

/**
 * Validates a batch: the batch itself (sequence, size), then every event. Duplicate ids
 * inside one batch are refused after the first.
 */
export function validateBatch(batch: EventBatch__Output, limits: ValidationLimits, nowMicros: number): BatchVerdict {
  const sequence = batch.sequence;
  if (!Number.isSafeInteger(sequence) || sequence <= 0) {
    return { batchError: { index: -1, field: 'sequence', reason: 'must be a positive integer' }, valid: [], rejections: [] };
  }
  if (batch.events.length === 0) {
    return { batchError: { index: -1, field: 'events', reason: 'a batch needs at least one event' }, valid: [], rejections: [] };
  }
  if (batch.events.length > limits.maxBatchEvents) {
    return {
      batchError: {
        index: -1,
        field: 'events',
        reason: `has ${batch.events.length} events, more than the limit of ${limits.maxBatchEvents}`,
      },
      valid: [],
      rejections: [],
    };
  }
  const valid: number[] = [];
  const rejections: Rejection[] = [];
  const seen = new Set<string>();
  batch.events.forEach((event, index) => {
    let problem = checkEvent(event, limits, nowMicros);
    if (!problem && seen.has(event.id)) problem = ['id', 'repeats an earlier event of the same batch'];
    if (problem) {
      rejections.push({ index, event_id: event.id.slice(0, limits.maxIdLength), field: `events[${index}].${problem[0]}`, reason: problem[1] });
    } else {
      seen.add(event.id);
      valid.push(index);
    }
  });
  return { valid, rejections };
}
