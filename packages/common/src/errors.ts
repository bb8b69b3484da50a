/**
 * The closed list of error codes Mamori raises. Codes are stable: alerting, logs and API
 * clients match on them, so a code is never renamed or reused.
 */
export const ErrorCode = {
  /** A configuration value is missing or invalid. */
  Config: 'MAMORI_CONFIG',
  /** A record on the bus could not be decoded. */
  BusDecode: 'MAMORI_BUS_DECODE',
  /** The bus is closed, or an operation was used after close. */
  BusClosed: 'MAMORI_BUS_CLOSED',
  /** The bus could not be reached or refused a write; usually retriable. */
  BusUnavailable: 'MAMORI_BUS_UNAVAILABLE',
  /** A topic does not exist or was declared with conflicting settings. */
  BusTopic: 'MAMORI_BUS_TOPIC',
  /** Data on disk failed a checksum or could not be parsed. */
  BusCorrupt: 'MAMORI_BUS_CORRUPT',
  /** A consumer-group operation was refused (not a member, partition not assigned, rebalance). */
  BusGroup: 'MAMORI_BUS_GROUP',
  /** The embedded log's directory is locked by another process. */
  BusLocked: 'MAMORI_BUS_LOCKED',
  /** A request or message is larger than allowed. */
  TooLarge: 'MAMORI_TOO_LARGE',
  /** A credential was missing or unknown. */
  Unauthenticated: 'MAMORI_UNAUTHENTICATED',
  /** A payload failed validation; `field` names what was wrong. */
  Validation: 'MAMORI_VALIDATION',
  /** A rule file could not be parsed. */
  RuleSyntax: 'MAMORI_RULE_SYNTAX',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Structured context carried by an error; never part of the message text. */
export type ErrorContext = Readonly<Record<string, string | number | boolean | bigint | undefined>>;

export interface MamoriErrorOptions {
  /** Whether repeating the operation may succeed. @default false */
  retriable?: boolean;
  cause?: unknown;
  /** Where the error happened (topic, partition, offset, agentId, file, line, field, …). */
  context?: ErrorContext;
}

/** The one base class of errors Mamori throws on purpose. */
export class MamoriError extends Error {
  override readonly name = 'MamoriError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: MamoriErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = Object.freeze({ ...options.context });
  }
}

/** True when `err` is a MamoriError, optionally of one code. */
export function isMamoriError(err: unknown, code?: ErrorCode): err is MamoriError {
  return err instanceof MamoriError && (code === undefined || err.code === code);
}

/** Whether an unknown error may succeed on retry. Unknown errors are treated as not retriable. */
export function isRetriable(err: unknown): boolean {
  return err instanceof MamoriError && err.retriable;
}
