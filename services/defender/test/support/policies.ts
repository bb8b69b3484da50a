import type { Policy__Output, WebApplicationPolicy__Output } from '@mamori/proto';

/** A web application part with the API's defaults, and nothing sampled. */
export function webApp(
  partial: Partial<WebApplicationPolicy__Output> = {},
): WebApplicationPolicy__Output {
  return {
    hosts: [],
    path_prefixes: [],
    paranoia: 1,
    alert_threshold: 3,
    block_threshold: 5,
    exceptions: [],
    openapi: '',
    api_mode: 'POLICY_MODE_DETECT',
    rate_limits: null,
    bot_mode: 'POLICY_MODE_DETECT',
    body_limit_bytes: 131072,
    sample_clean: 0,
    ...partial,
  };
}

/** A policy of tenant city-a as ingest pushes it: no runtime part unless `partial` adds one. */
export function policy(
  partial: Partial<Policy__Output> & Pick<Policy__Output, 'id'>,
): Policy__Output {
  return {
    name: partial.id,
    mode: 'POLICY_MODE_DETECT',
    rules: '',
    namespaces: [],
    images: [],
    tenant_id: 'city-a',
    pod_labels: {},
    allowed_processes: [],
    denied_processes: [],
    protected_paths: [],
    allowed_destinations: [],
    updated_unix_micros: 1,
    deleted: false,
    web_application: null,
    ...partial,
  };
}
