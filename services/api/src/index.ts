export { buildApp, type ApiApp, type ApiDeps } from './app.js';
export { readApiConfig, type ApiConfig, type ApiLimits } from './config.js';
export {
  bearerToken,
  createTokenRegistry,
  loadTokenFile,
  ROLES,
  type Caller,
  type Role,
  type TokenRegistry,
} from './auth/tokens.js';
export { LimitCode, limitRules, type LimitOptions } from './graphql/limits.js';
export { ApiErrorCode, type ApiContext, type ApiWarehouse } from './graphql/resolvers.js';
export { typeDefs } from './graphql/schema.js';
export { createMetrics, type ApiMetrics } from './metrics.js';
export { startApi, type RunningApi } from './run.js';
