import type { Logger } from '@mamori/common';
import type { Policy__Output, WebApplicationPolicy__Output } from '@mamori/proto';
import { compileGlob, compilePathPrefixes } from '@mamori/rules';
import {
  CATEGORIES,
  DEFAULT_BODY_LIMIT,
  createApiSchema,
  createInspector,
  createRateLimiter,
  detectBot,
  type ApiSchema,
  type Category,
  type Finding,
  type HttpRequest,
  type InspectionException,
  type Inspector,
  type Paranoia,
  type RateLimiter,
  type Verdict,
} from '@mamori/waas';

/** What a blocking verdict does: `detect` reports it, `block` refuses the request. */
export type WaasMode = 'detect' | 'block';

/** Settings for requests that no pushed policy selects (the proxy's own flags). */
export interface LocalWaasSettings {
  /** @default 1 */
  paranoia?: Paranoia;
  /** @default 131072 */
  bodyLimitBytes?: number;
  /** @default 0.01 */
  sampleClean?: number;
  /** @default 'block' */
  mode?: WaasMode;
}

/** One application's compiled settings: a policy's web_application part, or the local ones. */
export interface WebApp {
  /** The policy's id; undefined for the local settings. */
  readonly policyId: string | undefined;
  readonly mode: WaasMode;
  /** Bytes of a body inspected. */
  readonly bodyLimit: number;
  /** Share of clean requests reported. */
  readonly sampleClean: number;
}

/** What the engine decided about one request. */
export interface WaasJudgement {
  /** Inspection, API schema, bots and rate limits together: the most severe action wins. */
  verdict: Verdict;
  /** Set when the request is to be refused (a blocking verdict under a blocking policy). */
  refuse: { status: 403 | 429; retryAfterSeconds?: number } | undefined;
  app: WebApp;
  /**
   * True for a client refused again within a ban already reported: its event would only repeat
   * the first one, so a flood costs the pipeline one event per client and ban.
   */
  repeat?: boolean;
}

/**
 * Whether a judged request becomes an event: one with a verdict or findings, unless it only
 * repeats a ban already reported, and a drawn sample of the clean ones.
 */
export function isReportable(judgement: WaasJudgement, random: () => number): boolean {
  const { verdict, app } = judgement;
  if (judgement.repeat === true) return false;
  if (verdict.action !== 'allow' || verdict.findings.length > 0) return true;
  return app.sampleClean > 0 && random() < app.sampleClean;
}

/** Judges requests under the web application policies pushed to the agent. */
export interface WaasEngine {
  /**
   * Replaces the policies (the whole set, as pushed): their web_application parts are compiled;
   * one that cannot be is logged and left out (its requests fall to the next policy).
   */
  setPolicies(policies: readonly Policy__Output[]): void;
  /** The application a request belongs to: the first policy by id whose selector matches. */
  appFor(host: string, path: string): WebApp;
  /**
   * Judges a request (its body already cut to `app.bodyLimit`); `address` is the peer's.
   * Never throws: a part that fails is logged and left out of the verdict.
   */
  judge(app: WebApp, request: HttpRequest, address: string): WaasJudgement;
  /** Ids of the policies with a web application part in force, in selection order. */
  policies(): string[];
}

/**
 * Share of clean requests sent as events: 1 % gives the platform a baseline of normal traffic
 * (for API discovery and false-positive review) without an event per request.
 */
export const DEFAULT_SAMPLE_CLEAN = 0.01;

const ACTION_RANK: Readonly<Record<Verdict['action'], number>> = { allow: 0, alert: 1, block: 2 };
/** Bans remembered as reported, at most; past it the expired ones are forgotten, then all. */
const MAX_REPORTED_BANS = 10_000;
const KNOWN_CATEGORIES = new Set<string>(CATEGORIES);

interface CompiledApp extends WebApp {
  matchesHost: (host: string) => boolean;
  matchesPath: (path: string) => boolean;
  inspector: Inspector;
  api: ApiSchema | undefined;
  apiMode: WaasMode;
  rateLimiter: RateLimiter | undefined;
  /** undefined: bots are not looked for. */
  botMode: WaasMode | undefined;
}

function modeOf(mode: Policy__Output['mode']): WaasMode {
  return mode === 'POLICY_MODE_PREVENT' || mode === 'POLICY_MODE_BLOCK' ? 'block' : 'detect';
}

/** Host without port, lower-cased: `Example.gov:8443` → `example.gov`, `[::1]:80` → `[::1]`. */
export function hostOf(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close < 0 ? h : h.slice(0, close + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The path a selector compares: before `?`, percent-escapes of unreserved characters decoded
 * and `.`/`..`/empty segments resolved, so `/%61pi/../api//x` is `/api/x`: spelling a path
 * another way must not move a request to another application's policy.
 */
export function normalizedPath(url: string): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.includes('%')) {
    let out = '';
    for (let i = 0; i < path.length; i++) {
      const c = path[i]!;
      if (c === '%' && i + 2 < path.length && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
        const decoded = String.fromCharCode(parseInt(path.slice(i + 1, i + 3), 16));
        if (UNRESERVED.test(decoded)) {
          out += decoded;
          i += 2;
          continue;
        }
      }
      out += c;
    }
    path = out;
  }
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

function exceptionsOf(part: WebApplicationPolicy__Output): InspectionException[] {
  return part.exceptions.map((e) => {
    const out: InspectionException = {};
    if (e.location !== '') out.location = e.location;
    if (e.location_prefix !== '') out.locationPrefix = e.location_prefix;
    if (e.path_prefix !== '') out.pathPrefix = e.path_prefix;
    const categories = e.categories.filter((c): c is Category => KNOWN_CATEGORIES.has(c));
    if (categories.length > 0) out.categories = categories;
    return out;
  });
}

function paranoiaOf(value: number): Paranoia {
  return value >= 1 && value <= 4 ? (value as Paranoia) : 1;
}

function compileApp(
  policy: Policy__Output,
  part: WebApplicationPolicy__Output,
  log: Logger,
): CompiledApp {
  const hostTests = part.hosts.map((h) => compileGlob(h.toLowerCase()));
  const matchesHost =
    hostTests.length === 0 ? () => true : (host: string) => hostTests.some((t) => t(host));
  const matchesPath =
    part.path_prefixes.length === 0 ? () => true : compilePathPrefixes(part.path_prefixes);
  const bodyLimit = part.body_limit_bytes > 0 ? part.body_limit_bytes : DEFAULT_BODY_LIMIT;
  const thresholds =
    part.alert_threshold > 0 && part.block_threshold >= part.alert_threshold
      ? { alert: part.alert_threshold, block: part.block_threshold }
      : undefined;
  const inspector = createInspector({
    paranoia: paranoiaOf(part.paranoia),
    bodyLimit,
    exceptions: exceptionsOf(part),
    ...(thresholds ? { thresholds } : {}),
  });
  let api: ApiSchema | undefined;
  if (part.openapi !== '') {
    try {
      api = createApiSchema(part.openapi, { bodyLimit });
    } catch (err) {
      // The API compiles a document before it accepts it; one that fails here is reported and
      // the rest of the policy still protects the application.
      log.error({ policy: policy.id, err }, 'web application policy: OpenAPI document not usable');
    }
  }
  const limits = part.rate_limits;
  const rateLimiter =
    limits === null
      ? undefined
      : createRateLimiter({
          addressLimits: {
            burst: { requests: limits.burst_requests, seconds: limits.burst_seconds },
            average: { requests: limits.average_requests, seconds: limits.average_seconds },
          },
          banSeconds: limits.ban_seconds,
          // Explicit (the API fills the defaults in): an empty list means no session key.
          sessionCookies: limits.session_cookies,
          sessionHeaders: limits.session_headers,
        });
  return {
    policyId: policy.id,
    mode: modeOf(policy.mode),
    bodyLimit,
    sampleClean: Math.min(1, Math.max(0, part.sample_clean)),
    matchesHost,
    matchesPath,
    inspector,
    api,
    apiMode: modeOf(part.api_mode),
    rateLimiter,
    botMode: modeOf(part.bot_mode),
  };
}

function localApp(settings: LocalWaasSettings): CompiledApp {
  const bodyLimit = settings.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 0) {
    throw new RangeError(`bodyLimitBytes: expected a non-negative integer, got ${bodyLimit}`);
  }
  const sampleClean = settings.sampleClean ?? DEFAULT_SAMPLE_CLEAN;
  if (!(sampleClean >= 0 && sampleClean <= 1)) {
    throw new RangeError(`sampleClean: expected a share from 0 to 1, got ${sampleClean}`);
  }
  return {
    policyId: undefined,
    mode: settings.mode ?? 'block',
    bodyLimit,
    sampleClean,
    matchesHost: () => true,
    matchesPath: () => true,
    inspector: createInspector({ paranoia: settings.paranoia ?? 1, bodyLimit }),
    api: undefined,
    apiMode: 'detect',
    rateLimiter: undefined,
    botMode: undefined,
  };
}

/** The action a part's findings ask for: `block` only when the part's mode blocks. */
function partAction(findings: readonly Finding[], mode: WaasMode): Verdict['action'] {
  if (findings.length === 0) return 'allow';
  return mode === 'block' ? 'block' : 'alert';
}

function worse(a: Verdict['action'], b: Verdict['action']): Verdict['action'] {
  return ACTION_RANK[b] > ACTION_RANK[a] ? b : a;
}

/**
 * The WAAS engine of an agent: the local settings, then the pushed policies' web application
 * parts; each request is judged under the first policy (by id) that selects its host and path,
 * or under the local settings.
 * @throws RangeError when the local settings are out of range (body limit, sample share,
 * paranoia).
 */
export function createWaasEngine(options: {
  local?: LocalWaasSettings;
  logger: Logger;
  /**
   * False when this node must not enforce pushed policies (MAMORI_DEFENDER_ENFORCE=false): they
   * all judge as in detect mode. @default true
   */
  enforcePolicies?: boolean;
  /** Milliseconds since the epoch, for bans. @default Date.now */
  now?: () => number;
}): WaasEngine {
  const log = options.logger;
  const enforcePolicies = options.enforcePolicies ?? true;
  const local = localApp(options.local ?? {});
  let apps: CompiledApp[] = [];
  const now = options.now ?? Date.now;
  /** `<policy> <key>` → when its reported ban ends (ms). */
  const reportedBans = new Map<string, number>();

  /** Whether this ban was reported already; remembers it otherwise. */
  function repeatOfBan(app: CompiledApp, key: string, retryAfterSeconds: number): boolean {
    const id = `${app.policyId ?? ''} ${key}`;
    const at = now();
    if ((reportedBans.get(id) ?? 0) > at) return true;
    if (reportedBans.size >= MAX_REPORTED_BANS) {
      for (const [k, until] of reportedBans) if (until <= at) reportedBans.delete(k);
      if (reportedBans.size >= MAX_REPORTED_BANS) reportedBans.clear();
    }
    reportedBans.set(id, at + retryAfterSeconds * 1000);
    return false;
  }

  return {
    setPolicies(policies) {
      const next: CompiledApp[] = [];
      const sorted = [...policies].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      for (const policy of sorted) {
        const part = policy.web_application;
        if (policy.deleted || part === null || part === undefined) continue;
        try {
          const app = compileApp(policy, part, log);
          next.push(enforcePolicies ? app : { ...app, mode: 'detect' });
        } catch (err) {
          log.error({ policy: policy.id, err }, 'web application policy not usable; left out');
        }
      }
      apps = next;
      log.info({ policies: apps.map((a) => a.policyId) }, 'web application policies in force');
    },

    appFor(host, path) {
      if (apps.length === 0) return local;
      const h = hostOf(host);
      const p = normalizedPath(path);
      for (const app of apps) if (app.matchesHost(h) && app.matchesPath(p)) return app;
      return local;
    },

    judge(webApp, request, address) {
      const app = webApp as CompiledApp;
      const findings: Finding[] = [];
      let action: Verdict['action'] = 'allow';
      let refuse: WaasJudgement['refuse'];
      let rateRepeat = false;

      if (app.rateLimiter !== undefined) {
        const rate = app.rateLimiter.check({ address, request });
        if (rate.limited) {
          findings.push(rate.finding);
          action = partAction([rate.finding], app.mode);
          const repeat = repeatOfBan(app, rate.key, rate.retryAfterSeconds);
          if (action === 'block') {
            // A flood is refused before it costs an inspection.
            return {
              verdict: { action, score: 0, findings },
              refuse: { status: 429, retryAfterSeconds: rate.retryAfterSeconds },
              app,
              repeat,
            };
          }
          rateRepeat = repeat;
        }
      }

      let score = 0;
      try {
        const inspected = app.inspector.inspect(request);
        score = inspected.score;
        findings.push(...inspected.findings);
        action = worse(action, inspected.action);
      } catch (err) {
        log.error({ err, policy: app.policyId }, 'waas inspection failed; left out');
      }

      if (app.api !== undefined) {
        const violations = app.api.validate(request);
        findings.push(...violations);
        action = worse(action, partAction(violations, app.apiMode));
      }

      if (app.botMode !== undefined) {
        try {
          const bots = detectBot(request);
          findings.push(...bots);
          const blocking = bots.filter((b) => !b.alertOnly);
          action = worse(action, partAction(bots, blocking.length > 0 ? app.botMode : 'detect'));
        } catch (err) {
          log.error({ err, policy: app.policyId }, 'bot detection failed; left out');
        }
      }

      if (action === 'block' && app.mode === 'block') refuse = refuse ?? { status: 403 };
      // Under a detect-mode policy a blocking verdict stays `block` (the event says it would
      // have been refused, and was not). A request over its limit but with nothing else found
      // repeats the ban's first report.
      const repeat = rateRepeat && findings.length === 1;
      return { verdict: { action, score, findings }, refuse, app, ...(repeat ? { repeat } : {}) };
    },

    policies: () => apps.map((a) => a.policyId ?? ''),
  };
}
