export {
  ErrorCode,
  MamoriError,
  isMamoriError,
  isRetriable,
  type ErrorContext,
  type MamoriErrorOptions,
} from './errors.js';
export { backoffDelay, retry, sleep, type BackoffOptions, type RetryOptions } from './retry.js';
export {
  createLogger,
  createSilentLogger,
  REDACTED_PATHS,
  type CreateLoggerOptions,
  type Logger,
} from './logger.js';
export { createEnvReader, DEFAULT_DATA_DIR, type EnvReader, type IntOptions } from './config.js';
export { runUntilSignalled, type Stoppable } from './process.js';
export {
  bearerToken,
  createCredentialRegistry,
  isCredentialName,
  loadCredentialFile,
  type CredentialRegistry,
  type CredentialSpec,
} from './credentials.js';
export {
  allReady,
  checkReadiness,
  startOpsServer,
  type MetricsSource,
  type OpsServer,
  type OpsServerOptions,
  type Readiness,
  type ReadinessCheck,
} from './ops-server.js';
