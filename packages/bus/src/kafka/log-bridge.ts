import type { Logger } from '@mamori/common';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

/**
 * Keys never copied from a kafkajs log entry: secrets, and `data`, where kafkajs's debug lines
 * put whole protocol responses (fetched records, agent-supplied payloads included).
 */
const DROPPED_KEY = /pass|secret|token|sasl|auth|credential|ssl|key$|^data$/i;

/**
 * Messages kafkajs logs louder than they deserve here:
 * - "Response X": every protocol error a broker answers, logged at ERROR before kafkajs
 *   retries it (a coordinator still loading, metadata of a topic just created). What is not
 *   recovered reaches the caller as a MamoriError, so these are debug lines.
 * - the warning that an idempotent producer with bounded retries may lose its guarantees:
 *   the bus starts a new producer session after any failed send, which is what keeps them.
 * - pausing and resuming a partition (the bus does it around every redelivery backoff and logs
 *   the failure itself), and the runner's "consumer not running" at every stop.
 */
function demoted(entry: LogEntry): boolean {
  const message = entry.log.message;
  return (
    (entry.namespace === 'Connection' && message.startsWith('Response ')) ||
    message.startsWith('Limiting retries for the idempotent producer') ||
    message.startsWith('Pausing fetching from') ||
    message.startsWith('Resuming fetching from') ||
    message.startsWith('consumer not running, exiting')
  );
}

/** The kafkajs level that lets through what `logger` would write. */
export function kafkaJsLogLevel(logger: Logger | undefined): logLevel {
  if (!logger) return logLevel.NOTHING;
  switch (logger.level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      // Demoted errors are filtered below anyway; ERROR entries still come through.
      return logLevel.WARN;
    case 'error':
    case 'fatal':
      return logLevel.ERROR;
    default:
      return logLevel.NOTHING;
  }
}

/** Sends kafkajs's log entries to a pino logger, with kafkajs's namespace as a field. */
export function createLogBridge(logger: Logger | undefined): logCreator {
  return () => (entry) => {
    if (!logger) return;
    const {
      message,
      timestamp: _timestamp,
      logger: _logger,
      ...extra
    } = entry.log as Record<string, unknown> & {
      message: string;
    };
    const fields: Record<string, unknown> = { kafkajs: entry.namespace };
    for (const [key, value] of Object.entries(extra)) {
      if (!DROPPED_KEY.test(key)) fields[key] = value;
    }
    if (demoted(entry)) {
      logger.debug(fields, message);
      return;
    }
    switch (entry.level) {
      case logLevel.ERROR:
        logger.error(fields, message);
        break;
      case logLevel.WARN:
        logger.warn(fields, message);
        break;
      case logLevel.INFO:
        logger.info(fields, message);
        break;
      default:
        logger.debug(fields, message);
    }
  };
}
