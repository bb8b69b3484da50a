import { BUILTIN_CHECKS, xxeCheck } from './checks/index.js';
import { DETECTORS } from './registry.js';
import { extractValues, type HttpRequest, splitUrl } from './request.js';
import type { Category, Detector, Finding, InspectedValue, Paranoia } from './types.js';

/**
 * Points a finding of confidence 1 adds to a request's score, by category. With the default
 * thresholds (alert 3, block 5), one finding of an attack class with confidence ≥ 0.84 blocks
 * on its own (the detectors report 0.9 and above for what they would block), one of 0.5–0.83
 * alerts, and two of 0.45 at different places block together. Protocol and schema findings
 * alert but never block alone: they are anomalies, not attacks.
 */
export const CATEGORY_WEIGHTS: Readonly<Record<Category, number>> = {
  sqli: 6,
  xss: 6,
  cmdi: 6,
  'path-traversal': 6,
  lfi: 6,
  rfi: 6,
  ssrf: 6,
  jndi: 6,
  xxe: 6,
  nosqli: 6,
  ldapi: 6,
  crlf: 6,
  ssti: 6,
  'prototype-pollution': 6,
  scanner: 6,
  protocol: 3.5,
  'api-schema': 3.5,
  // Judged apart from the score (traffic, not a value): a bot or a flood has its own action.
  bot: 0,
  'rate-limit': 0,
};

/** The default thresholds of a request's score. */
export const DEFAULT_THRESHOLDS = { alert: 3, block: 5 } as const;

/**
 * A part of requests an application excludes from some or all categories: a parameter, header,
 * cookie or body field (by exact location or location prefix), optionally only under a path.
 * Exact names and prefixes, no globs: an exception is read by people deciding what is let through.
 */
export interface InspectionException {
  /** An exact location: `query.token`, `header.x-signature`, `cookie.session`, `body.html`, `path`. */
  location?: string;
  /** Every location that starts with this: `body.content.`, `header.x-`, `cookie.`. */
  locationPrefix?: string;
  /** Only requests whose path starts with this (`/admin/editor/`). @default every path */
  pathPrefix?: string;
  /** The categories excepted. @default every category */
  categories?: readonly Category[];
}

/** Options of {@link createInspector}. */
export interface InspectorOptions {
  /** How much detectors may flag (1 fewest false positives, 4 most variants caught). @default 1 */
  paranoia?: Paranoia;
  /** Scores at which a request is alerted on and blocked. @default { alert: 3, block: 5 } */
  thresholds?: { alert: number; block: number };
  /** Parts of requests excluded from inspection. @default [] */
  exceptions?: readonly InspectionException[];
  /**
   * The grammar-based detectors run after the built-in checks.
   * @default the registry's (`DETECTORS`: SQL, HTML/JS, shell, paths, LDAP filters)
   */
  detectors?: readonly Detector[];
  /** Whether the built-in checks run (scanners, JNDI, CRLF, SSTI, SSRF, XXE, NoSQL, prototype pollution). @default true */
  builtinChecks?: boolean;
  /** Bytes of a body inspected. @default 131072 (128 KiB) */
  bodyLimit?: number;
  /** Whether a body longer than `bodyLimit` (or a request with too many values) is a `protocol` finding. @default false */
  reportUninspected?: boolean;
  /** Points by category. @default CATEGORY_WEIGHTS */
  weights?: Partial<Record<Category, number>>;
}

/** What an inspector decided about a request. */
export interface Verdict {
  action: 'allow' | 'alert' | 'block';
  /** The sum over findings of weight(category) × confidence, rounded to 2 decimals. */
  score: number;
  /** One finding per category and location (the most confident), most confident first. */
  findings: Finding[];
}

/** Inspects requests under one policy. */
export interface Inspector {
  /** The verdict on one request. Never throws: a detector that throws is skipped for that value. */
  inspect(request: HttpRequest): Verdict;
}

interface CompiledException {
  location: string | undefined;
  locationPrefix: string | undefined;
  pathPrefix: string | undefined;
  categories: ReadonlySet<Category> | undefined;
}

function matchesLocation(e: CompiledException, location: string): boolean {
  if (e.location !== undefined && location === e.location) return true;
  if (e.locationPrefix !== undefined && location.startsWith(e.locationPrefix)) return true;
  return e.location === undefined && e.locationPrefix === undefined;
}

/**
 * An inspector: extracts and decodes a request's values, runs the built-in checks and the
 * detectors on each, keeps the most confident finding per category and location, adds up the
 * score and compares it with the thresholds.
 * @throws RangeError when the thresholds are not numbers with 0 < alert ≤ block, or paranoia is not 1–4.
 */
export function createInspector(options: InspectorOptions = {}): Inspector {
  const paranoia = options.paranoia ?? 1;
  if (![1, 2, 3, 4].includes(paranoia))
    throw new RangeError(`paranoia must be 1 to 4, not ${paranoia}`);
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  if (!(thresholds.alert > 0 && thresholds.alert <= thresholds.block)) {
    throw new RangeError('thresholds must satisfy 0 < alert <= block');
  }
  const weights: Record<Category, number> = { ...CATEGORY_WEIGHTS, ...options.weights };
  const detectors: readonly Detector[] = [
    ...(options.builtinChecks === false ? [] : BUILTIN_CHECKS),
    ...(options.detectors ?? DETECTORS),
  ];
  const exceptions: CompiledException[] = (options.exceptions ?? []).map((e) => ({
    location: e.location,
    locationPrefix: e.locationPrefix,
    pathPrefix: e.pathPrefix,
    categories: e.categories === undefined ? undefined : new Set(e.categories),
  }));
  const bodyLimit = options.bodyLimit;
  const reportUninspected = options.reportUninspected ?? false;

  function run(detector: Detector, value: InspectedValue, out: Finding[]): void {
    let found: Finding[];
    try {
      found = detector.inspect(value, paranoia);
    } catch {
      // A detector's bug must not let a request through unseen nor stop the stream; the other
      // detectors still judge the value.
      return;
    }
    for (const f of found) out.push(f);
  }

  return {
    inspect(request: HttpRequest): Verdict {
      const extracted = extractValues(request, bodyLimit === undefined ? {} : { bodyLimit });
      const path = exceptions.length > 0 ? splitUrl(request.url).path : '';
      const active =
        exceptions.length === 0
          ? exceptions
          : exceptions.filter((e) => e.pathPrefix === undefined || path.startsWith(e.pathPrefix));
      const all: Finding[] = [];
      for (const value of extracted.values) {
        // A value excepted from every category is not inspected at all.
        if (active.some((e) => e.categories === undefined && matchesLocation(e, value.location))) {
          continue;
        }
        for (const detector of detectors) run(detector, value, all);
      }
      if (extracted.rawXml !== undefined) run(xxeCheck, extracted.rawXml, all);
      if (reportUninspected && (extracted.bodyTruncated || extracted.valuesTruncated)) {
        all.push({
          category: 'protocol',
          location: 'body',
          evidence: '',
          confidence: 1,
          reason: extracted.bodyTruncated
            ? 'body longer than the inspection limit: the rest was not inspected'
            : 'more values than the inspection limit: the rest were not inspected',
        });
      }
      // The most confident finding per category and location: a payload seen both in a whole
      // path and in its segment, or decoded two ways, is one piece of evidence.
      const best = new Map<string, Finding>();
      for (const f of all) {
        if (
          active.length > 0 &&
          active.some(
            (e) => e.categories?.has(f.category) === true && matchesLocation(e, f.location),
          )
        ) {
          continue;
        }
        const key = `${f.category}\u0000${f.location}`;
        const prev = best.get(key);
        if (prev === undefined || f.confidence > prev.confidence) best.set(key, f);
      }
      const findings = [...best.values()].sort((a, b) => b.confidence - a.confidence);
      let score = 0;
      for (const f of findings) {
        score += (weights[f.category] ?? 0) * Math.min(1, Math.max(0, f.confidence));
      }
      score = Math.round(score * 100) / 100;
      const action =
        score >= thresholds.block ? 'block' : score >= thresholds.alert ? 'alert' : 'allow';
      return { action, score, findings };
    },
  };
}
