export {
  CATEGORIES,
  type Category,
  type Detector,
  type Finding,
  type InspectedValue,
  type Paranoia,
} from './types.js';
export {
  DEFAULT_BODY_LIMIT,
  extractValues,
  headersOf,
  toHttpRequest,
  type ExtractedRequest,
  type ExtractOptions,
  type HttpRequest,
} from './request.js';
export {
  decodeBase64Text,
  decodeEscapes,
  decodeHtmlEntities,
  decodeValue,
  urlDecode,
  type DecodeOptions,
} from './decode.js';
export {
  CATEGORY_WEIGHTS,
  createInspector,
  DEFAULT_THRESHOLDS,
  type InspectionException,
  type Inspector,
  type InspectorOptions,
  type Verdict,
} from './inspect.js';
export { BUILTIN_CHECKS } from './checks/index.js';
export { DETECTORS } from './registry.js';
export {
  createRateLimiter,
  type RateLimited,
  type RateLimiter,
  type RateLimiterOptions,
  type RateLimits,
  type RateRequest,
  type RateVerdict,
  type RateWindow,
  type RateWindowName,
} from './traffic/rate-limit.js';
export { aggregateAddress, type AddressPrefixes } from './traffic/address.js';
export { detectBot, type BotFinding, type BotKind } from './traffic/bots.js';
export { createApiSchema, type ApiSchema, type ApiSchemaOptions } from './api/openapi.js';
export {
  createApiDiscovery,
  type ApiDiscovery,
  type ApiDiscoveryOptions,
} from './api/discovery.js';
