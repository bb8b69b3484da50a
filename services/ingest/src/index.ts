export { buildApp, INGEST_VERSION, SERVICE_NAME, type IngestApp, type IngestDeps } from './app.js';
export { readIngestConfig, type IngestConfig } from './config.js';
export {
  createTokenRegistry,
  loadTokenFile,
  type AgentIdentity,
  type TokenRegistry,
} from './auth/tokens.js';
export type { AgentSession, PolicySource } from './grpc/session.js';
export { startIngest, type RunningIngest, type SharedIngestResources } from './run.js';
export { createIngestMetrics, type IngestMetrics, type IngestMetricsOptions } from './metrics.js';
