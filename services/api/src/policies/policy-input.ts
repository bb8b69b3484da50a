import { ErrorCode, isMamoriError } from '@mamori/common';
import {
  protoType,
  type Policy,
  type Policy__Output,
  type WaasRateLimits__Output,
  type WebApplicationPolicy__Output,
} from '@mamori/proto';
import { compileGlob, compilePathPrefixes, compilePolicies, type RuleProblem } from '@mamori/rules';
import { CATEGORIES, createApiSchema, DEFAULT_BODY_LIMIT, DEFAULT_THRESHOLDS } from '@mamori/waas';

/** `upsertPolicy`'s input, as GraphQL hands it over (enums already mapped to proto names). */
export interface PolicyInput {
  id: string;
  name: string;
  mode?: Policy__Output['mode'] | null;
  images?: string[] | null;
  namespaces?: string[] | null;
  podLabels?: { key: string; value: string }[] | null;
  allowedProcesses?: string[] | null;
  deniedProcesses?: string[] | null;
  protectedPaths?: string[] | null;
  allowedDestinations?:
    | {
        cidr: string;
        port?: number | null;
        protocol?: Policy__Output['allowed_destinations'][number]['protocol'] | null;
      }[]
    | null;
  rules?: string | null;
  webApplication?: WebApplicationInput | null;
}

/** `PolicyInput.webApplication`: null or absent for a policy without one. */
export interface WebApplicationInput {
  hosts?: string[] | null;
  pathPrefixes?: string[] | null;
  paranoia?: number | null;
  alertThreshold?: number | null;
  blockThreshold?: number | null;
  exceptions?:
    | {
        location?: string | null;
        locationPrefix?: string | null;
        pathPrefix?: string | null;
        categories?: string[] | null;
      }[]
    | null;
  openapi?: string | null;
  apiMode?: Policy__Output['mode'] | null;
  rateLimits?: WaasRateLimitsInput | null;
  botMode?: Policy__Output['mode'] | null;
  bodyLimitBytes?: number | null;
  sampleClean?: number | null;
}

/** `WebApplicationInput.rateLimits`: null or absent for no rate limits. */
export interface WaasRateLimitsInput {
  burstRequests?: number | null;
  burstSeconds?: number | null;
  averageRequests?: number | null;
  averageSeconds?: number | null;
  banSeconds?: number | null;
  sessionCookies?: string[] | null;
  sessionHeaders?: string[] | null;
}

/** What makes an input unusable before it is even compiled: a field and why. */
export interface PolicyInputProblem {
  field: string;
  message: string;
}

/** The policy proto's rule for ids (`mamori.v1.Policy.id`). */
const POLICY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_PORT = 65_535;

/**
 * What the API fills in for the fields of a web application policy an input leaves out: the
 * proto has no defaults of its own (every field is explicit), so agents never guess. The
 * schema's input defaults (schema.ts) are the same values.
 */
export const WEB_APPLICATION_DEFAULTS = {
  /** The fewest false positives, as the inspector's own default. */
  paranoia: 1,
  alertThreshold: DEFAULT_THRESHOLDS.alert,
  blockThreshold: DEFAULT_THRESHOLDS.block,
  /** 131072 bytes (128 KiB), the inspector's own default. */
  bodyLimitBytes: DEFAULT_BODY_LIMIT,
  /** 1 % of clean requests: a baseline for API discovery at a small share of the traffic. */
  sampleClean: 0.01,
  apiMode: 'POLICY_MODE_DETECT',
  botMode: 'POLICY_MODE_DETECT',
} as const;

/**
 * What the API fills in for a rate limit's fields left out: createRateLimiter's defaults
 * (packages/waas, traffic/rate-limit.ts, which keeps them to itself).
 */
export const RATE_LIMIT_DEFAULTS = {
  /** 50 requests in 2 s: more than a browser loading a page with its assets in parallel. */
  burstRequests: 50,
  burstSeconds: 2,
  /** 600 in 300 s: two a second sustained, more than a person clicking through pages. */
  averageRequests: 600,
  averageSeconds: 300,
  banSeconds: 60,
  sessionCookies: ['session'],
  sessionHeaders: ['authorization'],
} as const;

/** A host name, or a glob of one: letters, digits, `.` `-` and the wildcards `*` `?` `[...]`. */
const HOST = /^[A-Za-z0-9.*?[\]-]{1,253}$/;
const MAX_PARANOIA = 4;
/** 1 MiB: an OpenAPI document travels in every policy set pushed to the tenant's agents. */
const MAX_OPENAPI_BYTES = 1 << 20;
/** 16 MiB: a bound on what inspecting one request may buffer; the rest passes uninspected. */
const MAX_BODY_LIMIT = 16 << 20;
const WAAS_CATEGORIES: ReadonlySet<string> = new Set(CATEGORIES);
const MAX_UINT32 = 0xffff_ffff;

/**
 * The policy an input describes, for the caller's tenant, written now. The tenant comes from
 * the caller only: the input has no field for it.
 */
export function policyOfInput(
  tenant: string,
  input: PolicyInput,
  updatedUnixMicros: number,
): { policy: Policy__Output; problems: PolicyInputProblem[] } {
  const problems: PolicyInputProblem[] = [];
  if (!POLICY_ID.test(input.id)) {
    problems.push({ field: 'id', message: 'id: 1 to 128 characters of A-Z a-z 0-9 . _ : -' });
  }
  const labels: Record<string, string> = {};
  for (const { key, value } of input.podLabels ?? []) {
    if (key === '') problems.push({ field: 'podLabels', message: 'podLabels: empty key' });
    else if (key in labels) {
      problems.push({ field: 'podLabels', message: `podLabels: ${key} given twice` });
    }
    labels[key] = value;
  }
  const destinations = (input.allowedDestinations ?? []).map((d, index) => {
    const port = d.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
      problems.push({
        field: 'allowedDestinations',
        message: `allowedDestinations[${index}].port: 0 (any) to ${MAX_PORT}`,
      });
    }
    return { cidr: d.cidr, port, protocol: d.protocol ?? 'L4_PROTOCOL_UNSPECIFIED' } as const;
  });
  const policy: Policy__Output = {
    id: input.id,
    name: input.name,
    mode: input.mode ?? 'POLICY_MODE_DETECT',
    rules: input.rules ?? '',
    namespaces: input.namespaces ?? [],
    images: input.images ?? [],
    tenant_id: tenant,
    pod_labels: labels,
    allowed_processes: input.allowedProcesses ?? [],
    denied_processes: input.deniedProcesses ?? [],
    protected_paths: input.protectedPaths ?? [],
    allowed_destinations: destinations,
    updated_unix_micros: updatedUnixMicros,
    deleted: false,
    web_application:
      input.webApplication == null ? null : webApplicationOfInput(input.webApplication, problems),
  };
  return { policy, problems };
}

/** `input` as the proto's WebApplicationPolicy, defaults filled in; its problems go to `problems`. */
function webApplicationOfInput(
  input: WebApplicationInput,
  problems: PolicyInputProblem[],
): WebApplicationPolicy__Output {
  const problem = (field: string, message: string) => {
    const path = `webApplication.${field}`;
    problems.push({ field: path, message: `${path}: ${message}` });
  };
  const defaults = WEB_APPLICATION_DEFAULTS;
  // Lower case before the glob is checked: the stored glob is the one compiled ([Z-a] is a
  // range, [z-a] is not).
  const hosts = (input.hosts ?? []).map((given, i) => {
    const host = given.toLowerCase();
    if (!HOST.test(host)) {
      problem(`hosts[${i}]`, 'a host name or glob of 1 to 253 letters, digits, . - * ? [ ]');
    } else if (!compiles(() => compileGlob(host))) {
      problem(`hosts[${i}]`, `${JSON.stringify(host)} is not a valid glob`);
    }
    return host;
  });
  const pathPrefixes = input.pathPrefixes ?? [];
  pathPrefixes.forEach((prefix, i) => {
    if (!prefix.startsWith('/')) problem(`pathPrefixes[${i}]`, 'must start with /');
    else if (!compiles(() => compilePathPrefixes([prefix]))) {
      problem(`pathPrefixes[${i}]`, `${JSON.stringify(prefix)} has a glob that is not valid`);
    }
  });
  const paranoia = input.paranoia ?? defaults.paranoia;
  if (!Number.isInteger(paranoia) || paranoia < 1 || paranoia > MAX_PARANOIA) {
    problem('paranoia', `1 to ${MAX_PARANOIA}`);
  }
  const alert = input.alertThreshold ?? defaults.alertThreshold;
  const block = input.blockThreshold ?? defaults.blockThreshold;
  if (!Number.isFinite(alert) || alert <= 0) {
    problem('alertThreshold', 'a finite number above 0');
  } else if (!Number.isFinite(block) || block < alert) {
    problem('blockThreshold', 'a finite number of at least alertThreshold');
  }
  const exceptions = (input.exceptions ?? []).map((e, i) => {
    const exception = {
      location: e.location ?? '',
      location_prefix: e.locationPrefix ?? '',
      path_prefix: e.pathPrefix ?? '',
      categories: e.categories ?? [],
    };
    if (
      exception.location === '' &&
      exception.location_prefix === '' &&
      exception.path_prefix === ''
    ) {
      problem(`exceptions[${i}]`, 'needs one of location, locationPrefix or pathPrefix');
    }
    if (exception.path_prefix !== '' && !exception.path_prefix.startsWith('/')) {
      problem(`exceptions[${i}].pathPrefix`, 'must start with /');
    }
    const unknown = exception.categories.filter((c) => !WAAS_CATEGORIES.has(c));
    if (unknown.length > 0) {
      problem(
        `exceptions[${i}].categories`,
        `not a category: ${unknown.map((c) => JSON.stringify(c)).join(', ')} (${CATEGORIES.join(', ')})`,
      );
    }
    return exception;
  });
  const openapi = input.openapi ?? '';
  if (Buffer.byteLength(openapi, 'utf8') > MAX_OPENAPI_BYTES) {
    problem('openapi', `at most ${MAX_OPENAPI_BYTES} bytes`);
  } else if (openapi !== '') {
    try {
      // Its `problems` (parts skipped, such as patterns RE2 cannot run) are not errors: the
      // document compiles without them wherever it is compiled, and the rest is enforced.
      createApiSchema(openapi);
    } catch (err) {
      if (!isMamoriError(err, ErrorCode.Validation)) throw err;
      problem('openapi', err.message);
    }
  }
  const bodyLimit = input.bodyLimitBytes ?? defaults.bodyLimitBytes;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 0 || bodyLimit > MAX_BODY_LIMIT) {
    problem('bodyLimitBytes', `0 to ${MAX_BODY_LIMIT}`);
  }
  const sampleClean = input.sampleClean ?? defaults.sampleClean;
  if (!(sampleClean >= 0 && sampleClean <= 1)) problem('sampleClean', '0 to 1');
  return {
    hosts,
    path_prefixes: pathPrefixes,
    paranoia,
    alert_threshold: alert,
    block_threshold: block,
    exceptions,
    openapi,
    api_mode: input.apiMode ?? defaults.apiMode,
    rate_limits: input.rateLimits == null ? null : rateLimitsOfInput(input.rateLimits, problem),
    bot_mode: input.botMode ?? defaults.botMode,
    body_limit_bytes: bodyLimit,
    sample_clean: sampleClean,
  };
}

/** `input` as the proto's WaasRateLimits, defaults filled in; its problems go to `problem`. */
function rateLimitsOfInput(
  input: WaasRateLimitsInput,
  problem: (field: string, message: string) => void,
): WaasRateLimits__Output {
  const defaults = RATE_LIMIT_DEFAULTS;
  const limits: WaasRateLimits__Output = {
    burst_requests: input.burstRequests ?? defaults.burstRequests,
    burst_seconds: input.burstSeconds ?? defaults.burstSeconds,
    average_requests: input.averageRequests ?? defaults.averageRequests,
    average_seconds: input.averageSeconds ?? defaults.averageSeconds,
    ban_seconds: input.banSeconds ?? defaults.banSeconds,
    session_cookies: input.sessionCookies ?? [...defaults.sessionCookies],
    session_headers: input.sessionHeaders ?? [...defaults.sessionHeaders],
  };
  const numbers = {
    burstRequests: limits.burst_requests,
    burstSeconds: limits.burst_seconds,
    averageRequests: limits.average_requests,
    averageSeconds: limits.average_seconds,
    banSeconds: limits.ban_seconds,
  };
  // At least 1: a limit or a window of 0 would refuse every request; uint32 in the proto.
  for (const [field, value] of Object.entries(numbers)) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_UINT32) {
      problem(`rateLimits.${field}`, 'a positive integer');
    }
  }
  if (limits.average_seconds < limits.burst_seconds) {
    problem('rateLimits.averageSeconds', 'at least burstSeconds');
  }
  limits.session_cookies.forEach((name, i) => {
    if (name === '') problem(`rateLimits.sessionCookies[${i}]`, 'must not be empty');
  });
  limits.session_headers.forEach((name, i) => {
    if (name === '') problem(`rateLimits.sessionHeaders[${i}]`, 'must not be empty');
  });
  return limits;
}

/** Whether `compile` (of a glob, as the selectors' globs are compiled) does not throw. */
function compiles(compile: () => unknown): boolean {
  try {
    compile();
    return true;
  } catch {
    return false;
  }
}

/**
 * What the detector would report compiling the policy (`compilePolicies`): invalid globs,
 * addresses, paths, Falco rule text. A policy with any is refused, so that nothing written
 * to the topic is enforced only in part.
 */
export function policyProblems(policy: Policy__Output): RuleProblem[] {
  return compilePolicies([policy]).problems;
}

const POLICY_UPDATE = protoType('mamori.v1.PolicyUpdate');

/**
 * Encoded bytes of the update that would carry `policies` to agents: the set as ingest pushes
 * it, with a version of 32 hex digits. Agents are sent at most `MAX_POLICY_UPDATE_BYTES` of
 * `@mamori/proto` at once.
 */
export function policySetBytes(policies: readonly Policy[]): number {
  const update = { version: '0'.repeat(32), policies: [...policies] };
  return POLICY_UPDATE.encode(POLICY_UPDATE.fromObject(update)).finish().length;
}
