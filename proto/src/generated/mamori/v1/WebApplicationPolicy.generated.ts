// Original file: mamori/v1/defender.proto

import type { WaasException as _mamori_v1_WaasException, WaasException__Output as _mamori_v1_WaasException__Output } from '../../mamori/v1/WaasException.generated.js';
import type { PolicyMode as _mamori_v1_PolicyMode, PolicyMode__Output as _mamori_v1_PolicyMode__Output } from '../../mamori/v1/PolicyMode.generated.js';
import type { WaasRateLimits as _mamori_v1_WaasRateLimits, WaasRateLimits__Output as _mamori_v1_WaasRateLimits__Output } from '../../mamori/v1/WaasRateLimits.generated.js';

/**
 * How requests to some web applications are judged. Every field is explicit: the API fills
 * in the defaults (paranoia 1, thresholds 3 and 5, 128 KiB of body, 1 % of clean requests).
 */
export interface WebApplicationPolicy {
  /**
   * Host names the requests are addressed to (Host header, without port), exact or globs with
   * * ? [...], compared case-insensitively; empty matches every host.
   */
  'hosts'?: (string)[];
  /**
   * Path prefixes, component by component ("/api" covers "/api" and "/api/v1", not "/apis");
   * empty matches every path.
   */
  'path_prefixes'?: (string)[];
  /**
   * 1 (fewest false positives) to 4 (most variants caught).
   */
  'paranoia'?: (number);
  /**
   * Anomaly scores at which a request is reported and blocked (0 < alert <= block).
   */
  'alert_threshold'?: (number | string);
  'block_threshold'?: (number | string);
  /**
   * Parts of requests not inspected.
   */
  'exceptions'?: (_mamori_v1_WaasException)[];
  /**
   * An OpenAPI 3.0 or 3.1 document (JSON or YAML); when set, requests to paths or methods it
   * does not describe, and parameters or bodies that violate its schemas, are findings of
   * their own judged by `api_mode`.
   */
  'openapi'?: (string);
  /**
   * What a schema violation does: DETECT (and UNSPECIFIED) reports it, PREVENT and BLOCK
   * refuse the request (when the policy's mode blocks too).
   */
  'api_mode'?: (_mamori_v1_PolicyMode);
  /**
   * Rate limits per client address and per session; absent: none.
   */
  'rate_limits'?: (_mamori_v1_WaasRateLimits | null);
  /**
   * What a recognised bot (user agent, automation signals) does, as `api_mode`.
   */
  'bot_mode'?: (_mamori_v1_PolicyMode);
  /**
   * Bytes of a body inspected; the rest is passed on uninspected.
   */
  'body_limit_bytes'?: (number);
  /**
   * Share of clean requests sent as events too (0 to 1), a baseline for API discovery.
   */
  'sample_clean'?: (number | string);
}

/**
 * How requests to some web applications are judged. Every field is explicit: the API fills
 * in the defaults (paranoia 1, thresholds 3 and 5, 128 KiB of body, 1 % of clean requests).
 */
export interface WebApplicationPolicy__Output {
  /**
   * Host names the requests are addressed to (Host header, without port), exact or globs with
   * * ? [...], compared case-insensitively; empty matches every host.
   */
  'hosts': (string)[];
  /**
   * Path prefixes, component by component ("/api" covers "/api" and "/api/v1", not "/apis");
   * empty matches every path.
   */
  'path_prefixes': (string)[];
  /**
   * 1 (fewest false positives) to 4 (most variants caught).
   */
  'paranoia': (number);
  /**
   * Anomaly scores at which a request is reported and blocked (0 < alert <= block).
   */
  'alert_threshold': (number);
  'block_threshold': (number);
  /**
   * Parts of requests not inspected.
   */
  'exceptions': (_mamori_v1_WaasException__Output)[];
  /**
   * An OpenAPI 3.0 or 3.1 document (JSON or YAML); when set, requests to paths or methods it
   * does not describe, and parameters or bodies that violate its schemas, are findings of
   * their own judged by `api_mode`.
   */
  'openapi': (string);
  /**
   * What a schema violation does: DETECT (and UNSPECIFIED) reports it, PREVENT and BLOCK
   * refuse the request (when the policy's mode blocks too).
   */
  'api_mode': (_mamori_v1_PolicyMode__Output);
  /**
   * Rate limits per client address and per session; absent: none.
   */
  'rate_limits': (_mamori_v1_WaasRateLimits__Output | null);
  /**
   * What a recognised bot (user agent, automation signals) does, as `api_mode`.
   */
  'bot_mode': (_mamori_v1_PolicyMode__Output);
  /**
   * Bytes of a body inspected; the rest is passed on uninspected.
   */
  'body_limit_bytes': (number);
  /**
   * Share of clean requests sent as events too (0 to 1), a baseline for API discovery.
   */
  'sample_clean': (number);
}
