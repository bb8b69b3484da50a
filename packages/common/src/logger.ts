import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths that are never written to a log, whatever logs them. */
export const REDACTED_PATHS: readonly string[] = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'sasl',
  '*.sasl',
];

export interface CreateLoggerOptions {
  /** Name of the process or service, bound to every line. */
  name: string;
  /** pino level. @default process.env.MAMORI_LOG_LEVEL ?? 'info' */
  level?: string;
  /** Where to write; a pino destination. @default stdout */
  destination?: pino.DestinationStream;
}

/** The one pino logger of a process, with secrets redacted. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? process.env['MAMORI_LOG_LEVEL'] ?? 'info',
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A logger that discards everything, for tests and library defaults. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
