import { ErrorCode, MamoriError, type ErrorContext } from '@mamori/common';

/** The fields of a kafkajs error this module reads; kafkajs's classes are not imported. */
interface KafkaJsErrorLike {
  name?: string;
  message?: string;
  /** Protocol error name, e.g. UNKNOWN_TOPIC_OR_PARTITION. */
  type?: string;
  retriable?: boolean;
  cause?: unknown;
  /** KafkaJSAggregateError (createTopics) carries one error per topic. */
  errors?: unknown[];
}

const TOPIC_ERRORS = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_REPLICA_ASSIGNMENT',
  'INVALID_CONFIG',
  'POLICY_VIOLATION',
  'TOPIC_ALREADY_EXISTS',
  'TOPIC_DELETION_DISABLED',
]);
const GROUP_ERRORS = new Set([
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'REBALANCE_IN_PROGRESS',
  'FENCED_INSTANCE_ID',
  'INVALID_GROUP_ID',
  'GROUP_ID_NOT_FOUND',
  'GROUP_MAX_SIZE_REACHED',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_SESSION_TIMEOUT',
  'INVALID_COMMIT_OFFSET_SIZE',
]);
const TOO_LARGE_ERRORS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
const AUTH_ERRORS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
/** kafkajs errors that mean "could not reach or hear from a broker": worth retrying. */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSStaleTopicMetadataAssignment',
]);

function asKafkaJsError(err: unknown): KafkaJsErrorLike | undefined {
  return typeof err === 'object' && err !== null ? err : undefined;
}

/** The chain of an error and its causes (kafkajs wraps protocol errors in retry errors). */
function chain(err: unknown): KafkaJsErrorLike[] {
  const out: KafkaJsErrorLike[] = [];
  let current = asKafkaJsError(err);
  while (current && out.length < 10 && !out.includes(current)) {
    out.push(current);
    current = asKafkaJsError(current.cause);
  }
  return out;
}

/** The Kafka protocol error names (e.g. UNKNOWN_TOPIC_OR_PARTITION) found in an error, its causes and its parts. */
export function kafkaErrorTypes(err: unknown): string[] {
  const types: string[] = [];
  for (const e of chain(err)) {
    if (typeof e.type === 'string') types.push(e.type);
    for (const part of e.errors ?? []) types.push(...kafkaErrorTypes(part));
  }
  return types;
}

/** Whether kafkajs (or the broker) says the failure may go away on its own. */
export function isTransientKafkaError(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      e.retriable === true ||
      (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) ||
      e.name === 'KafkaJSNumberOfRetriesExceeded',
  );
}

/**
 * Turns a kafkajs error into a MamoriError: topic problems are BusTopic, group membership
 * problems BusGroup, oversized writes TooLarge, refused credentials Unauthenticated, and the
 * rest BusUnavailable, retriable where kafkajs or the broker says the error is.
 */
export function toMamoriError(
  err: unknown,
  message: string,
  context: ErrorContext = {},
): MamoriError {
  if (err instanceof MamoriError) return err;
  const types = kafkaErrorTypes(err);
  const kafkaError = types[0] ?? chain(err)[0]?.name;
  const ctx: ErrorContext = { ...context, kafkaError };
  if (types.some((t) => TOPIC_ERRORS.has(t))) {
    return new MamoriError(ErrorCode.BusTopic, message, { cause: err, context: ctx });
  }
  if (types.some((t) => GROUP_ERRORS.has(t))) {
    return new MamoriError(ErrorCode.BusGroup, message, { cause: err, context: ctx });
  }
  if (types.some((t) => TOO_LARGE_ERRORS.has(t))) {
    return new MamoriError(ErrorCode.TooLarge, message, { cause: err, context: ctx });
  }
  if (
    types.some((t) => AUTH_ERRORS.has(t)) ||
    chain(err).some((e) => e.name === 'KafkaJSSASLAuthenticationError')
  ) {
    return new MamoriError(ErrorCode.Unauthenticated, message, { cause: err, context: ctx });
  }
  return new MamoriError(ErrorCode.BusUnavailable, message, {
    cause: err,
    retriable: isTransientKafkaError(err),
    context: ctx,
  });
}

/** A MamoriError for use after close. */
export function closedError(what: string): MamoriError {
  return new MamoriError(ErrorCode.BusClosed, 'the Kafka bus is closed', {
    context: { operation: what },
  });
}
