import { createHmac, randomBytes } from 'node:crypto';
import { ErrorCode, MamoriError } from '@mamori/common';
import { headerEntries, type HttpRequest } from '../request.js';
import type { Finding } from '../types.js';
import { aggregateAddress } from './address.js';

/** At most `requests` requests in any `seconds`. */
export interface RateWindow {
  requests: number;
  seconds: number;
}

/** The two windows a key is held to. */
export interface RateLimits {
  /** A short window against floods. @default { requests: 50, seconds: 2 } */
  burst?: RateWindow;
  /** A long window against steady scraping. @default { requests: 600, seconds: 300 } */
  average?: RateWindow;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Limits per client address (or address network). @default the burst and average defaults */
  addressLimits?: RateLimits;
  /** Limits per session. @default the same as `addressLimits` */
  sessionLimits?: RateLimits;
  /** Cookies whose value identifies a session, first present wins. @default ['session'] */
  sessionCookies?: readonly string[];
  /**
   * Headers whose value identifies a session (an API token), tried after the cookies.
   * @default ['authorization']
   */
  sessionHeaders?: readonly string[];
  /** Seconds a client over a limit is refused. @default 60 */
  banSeconds?: number;
  /** Bits of an IPv4 address a client is counted by. @default 32 */
  ipv4Prefix?: number;
  /** Bits of an IPv6 address a client is counted by. @default 64 (one subscriber's network) */
  ipv6Prefix?: number;
  /**
   * Keys (addresses and sessions) tracked; beyond it the least recently seen is forgotten.
   * @default 100000 (about 25 MB at about 250 bytes a key)
   */
  maxKeys?: number;
  /**
   * Key of the HMAC that session values are hashed with, so no token is held in clear.
   * @default 32 random bytes per limiter (hashes are not comparable across processes)
   */
  secret?: string | Buffer;
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** What a request is counted under. */
export interface RateRequest {
  /** The peer's address as the socket reports it; '' when unknown. */
  address: string;
  /** The request, for its session cookie or header. */
  request?: HttpRequest;
}

/** Which window a client went over. */
export type RateWindowName = 'burst' | 'average';

/** A request refused: the client is banned, and for how long still. */
export interface RateLimited {
  limited: true;
  /** Whether the address or the session went over. */
  by: 'address' | 'session';
  /** The address network (`2001:db8:1:2::/64`) or `session:<hash>`; never a token. */
  key: string;
  window: RateWindowName;
  /** In words, for logs and alerts. */
  reason: string;
  /** Seconds until the ban ends, at least 1 (as an HTTP `Retry-After`). */
  retryAfterSeconds: number;
  /** The verdict as a finding, category `rate-limit`. */
  finding: Finding;
}

/** The verdict on one request. */
export type RateVerdict = { limited: false } | RateLimited;

/** Counts requests per client address and session and bans those over a limit. */
export interface RateLimiter {
  /** Counts the request and says whether to refuse it. Never throws. */
  check(input: RateRequest): RateVerdict;
  /** Keys tracked now, at most `maxKeys`. */
  readonly size: number;
}

/** Burst: 50 requests in 2 s, more than a browser loading a page with its assets in parallel. */
const DEFAULT_BURST: RateWindow = { requests: 50, seconds: 2 };
/** Average: 600 in 5 min, two a second sustained, more than a person clicking through pages. */
const DEFAULT_AVERAGE: RateWindow = { requests: 600, seconds: 300 };
/** Characters of the base64url HMAC kept: 22 is 132 bits, no collisions at any key count. */
const HASH_LENGTH = 22;

/**
 * Counters of one key: two-bucket sliding windows (the count of the current fixed bucket plus
 * the previous bucket's count weighted by how much of it the sliding window still covers), so
 * each key costs a fixed few numbers and each request O(1) work.
 */
interface KeyState {
  burstStart: number;
  burstCurrent: number;
  burstPrevious: number;
  averageStart: number;
  averageCurrent: number;
  averagePrevious: number;
  /** Epoch milliseconds the ban ends, 0 for none. */
  bannedUntil: number;
  bannedFor: RateWindowName;
}

interface Limits {
  burstMs: number;
  burstRequests: number;
  averageMs: number;
  averageRequests: number;
}

function invalid(field: string, message: string): MamoriError {
  return new MamoriError(ErrorCode.Config, `rate limiter: ${message}`, { context: { field } });
}

function checkWindow(w: RateWindow, field: string): void {
  if (!Number.isInteger(w.requests) || w.requests < 1) {
    throw invalid(`${field}.requests`, 'requests must be an integer of at least 1');
  }
  if (!Number.isFinite(w.seconds) || w.seconds <= 0) {
    throw invalid(`${field}.seconds`, 'seconds must be a positive number');
  }
}

function resolveLimits(given: RateLimits | undefined, fallback: Limits, field: string): Limits {
  if (given === undefined) return fallback;
  const out = { ...fallback };
  if (given.burst !== undefined) {
    checkWindow(given.burst, `${field}.burst`);
    out.burstMs = given.burst.seconds * 1000;
    out.burstRequests = given.burst.requests;
  }
  if (given.average !== undefined) {
    checkWindow(given.average, `${field}.average`);
    out.averageMs = given.average.seconds * 1000;
    out.averageRequests = given.average.requests;
  }
  return out;
}

function checkRange(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `${field} must be an integer from ${min} to ${max}`);
  }
}

/** The start of the fixed bucket of width `width` that holds `now`. */
function bucketStart(now: number, width: number): number {
  return now - (now % width);
}

/**
 * The sliding-window estimate of requests in the last `width` ms, after moving the buckets on to
 * `now`. A clock that steps back leaves the buckets where they are.
 */
function slide(state: KeyState, which: 'burst' | 'average', now: number, width: number): number {
  const startKey = which === 'burst' ? 'burstStart' : 'averageStart';
  const currentKey = which === 'burst' ? 'burstCurrent' : 'averageCurrent';
  const previousKey = which === 'burst' ? 'burstPrevious' : 'averagePrevious';
  const start = bucketStart(now, width);
  if (start > state[startKey]) {
    state[previousKey] = start - state[startKey] === width ? state[currentKey] : 0;
    state[currentKey] = 0;
    state[startKey] = start;
  }
  const covered = 1 - Math.min(1, Math.max(0, (now - state[startKey]) / width));
  return state[previousKey] * covered + state[currentKey];
}

/** The session value of a request: the first configured cookie present, else header. */
function sessionValue(
  request: HttpRequest,
  cookies: readonly string[],
  headers: readonly string[],
): { source: string; value: string } | undefined {
  let cookieRank = cookies.length;
  let cookieValue = '';
  let headerRank = headers.length;
  let headerValue = '';
  for (const [name, value] of headerEntries(request)) {
    if (name === 'cookie') {
      for (const part of value.split(';')) {
        const eq = part.indexOf('=');
        if (eq === -1) continue;
        const rank = cookies.indexOf(part.slice(0, eq).trim());
        const v = part.slice(eq + 1).trim();
        if (rank !== -1 && rank < cookieRank && v !== '') {
          cookieRank = rank;
          cookieValue = v;
        }
      }
      continue;
    }
    const rank = headers.indexOf(name);
    if (rank !== -1 && rank < headerRank && value.trim() !== '') {
      headerRank = rank;
      headerValue = value.trim();
    }
  }
  if (cookieRank < cookies.length) {
    return { source: `cookie.${cookies[cookieRank] ?? ''}`, value: cookieValue };
  }
  if (headerRank < headers.length) {
    return { source: `header.${headers[headerRank] ?? ''}`, value: headerValue };
  }
  return undefined;
}

interface Subject {
  by: 'address' | 'session';
  /** The key in the state map. */
  key: string;
  /** The key as verdicts show it. */
  display: string;
  /** As in `Finding.location`. */
  location: string;
  limits: Limits;
  state?: KeyState;
}

/**
 * A rate limiter per client address (IPv6 by /64 network) and per session (a cookie or header,
 * kept only as an HMAC), each with a burst and an average window; a client over either is
 * refused for `banSeconds`. Memory is bounded by `maxKeys`. Refused requests are not counted:
 * a ban already stands, and counting them would stretch it past `banSeconds` of quiet.
 * @throws MamoriError `MAMORI_CONFIG` when an option is out of range (field in `context`).
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const defaults: Limits = {
    burstMs: DEFAULT_BURST.seconds * 1000,
    burstRequests: DEFAULT_BURST.requests,
    averageMs: DEFAULT_AVERAGE.seconds * 1000,
    averageRequests: DEFAULT_AVERAGE.requests,
  };
  const addressLimits = resolveLimits(options.addressLimits, defaults, 'addressLimits');
  const sessionLimits = resolveLimits(options.sessionLimits, addressLimits, 'sessionLimits');
  const banSeconds = options.banSeconds ?? 60;
  if (!Number.isFinite(banSeconds) || banSeconds < 0) {
    throw invalid('banSeconds', 'banSeconds must be a number of at least 0');
  }
  const banMs = banSeconds * 1000;
  const prefixes = { ipv4Prefix: options.ipv4Prefix ?? 32, ipv6Prefix: options.ipv6Prefix ?? 64 };
  checkRange(prefixes.ipv4Prefix, 0, 32, 'ipv4Prefix');
  checkRange(prefixes.ipv6Prefix, 0, 128, 'ipv6Prefix');
  const maxKeys = options.maxKeys ?? 100_000;
  checkRange(maxKeys, 1, Number.MAX_SAFE_INTEGER, 'maxKeys');
  const cookies = options.sessionCookies ?? ['session'];
  const headers = (options.sessionHeaders ?? ['authorization']).map((h) => h.toLowerCase());
  const secret = options.secret ?? randomBytes(32);
  const now = options.now ?? Date.now;

  // A Map iterates in insertion order: re-inserting on each touch keeps the least recently seen
  // key first, so eviction is O(1).
  const states = new Map<string, KeyState>();

  function touch(key: string, limits: Limits, at: number): KeyState {
    let state = states.get(key);
    if (state === undefined) {
      if (states.size >= maxKeys) {
        const oldest = states.keys().next();
        if (oldest.done !== true) states.delete(oldest.value);
      }
      state = {
        burstStart: bucketStart(at, limits.burstMs),
        burstCurrent: 0,
        burstPrevious: 0,
        averageStart: bucketStart(at, limits.averageMs),
        averageCurrent: 0,
        averagePrevious: 0,
        bannedUntil: 0,
        bannedFor: 'burst',
      };
    } else {
      states.delete(key);
    }
    states.set(key, state);
    return state;
  }

  function limited(subject: Subject, state: KeyState, at: number): RateLimited {
    const limits = subject.limits;
    const window = state.bannedFor;
    const requests = window === 'burst' ? limits.burstRequests : limits.averageRequests;
    const seconds = (window === 'burst' ? limits.burstMs : limits.averageMs) / 1000;
    const reason =
      `${subject.by} over the ${window} limit of ${requests} requests in ${seconds} s; ` +
      `refused for ${banSeconds} s`;
    return {
      limited: true,
      by: subject.by,
      key: subject.display,
      window,
      reason,
      retryAfterSeconds: Math.max(1, Math.ceil((state.bannedUntil - at) / 1000)),
      finding: {
        category: 'rate-limit',
        location: subject.location,
        evidence: subject.display,
        confidence: 1,
        reason,
      },
    };
  }

  function subjects(input: RateRequest): Subject[] {
    const out: Subject[] = [];
    if (input.address !== '') {
      const network = aggregateAddress(input.address, prefixes);
      out.push({
        by: 'address',
        key: `a ${network}`,
        display: network,
        location: 'client.address',
        limits: addressLimits,
      });
    }
    if (input.request !== undefined && (cookies.length > 0 || headers.length > 0)) {
      const session = sessionValue(input.request, cookies, headers);
      if (session !== undefined) {
        const hash = createHmac('sha256', secret)
          .update(session.value)
          .digest('base64url')
          .slice(0, HASH_LENGTH);
        out.push({
          by: 'session',
          key: `s ${hash}`,
          display: `session:${hash}`,
          location: session.source,
          limits: sessionLimits,
        });
      }
    }
    return out;
  }

  return {
    get size() {
      return states.size;
    },
    check(input: RateRequest): RateVerdict {
      const at = now();
      const list = subjects(input);
      for (const s of list) {
        s.state = touch(s.key, s.limits, at);
        if (s.state.bannedUntil > at) return limited(s, s.state, at);
      }
      for (const s of list) {
        const state = s.state;
        if (state === undefined) continue;
        const burst = slide(state, 'burst', at, s.limits.burstMs);
        const average = slide(state, 'average', at, s.limits.averageMs);
        const over: RateWindowName | undefined =
          burst + 1 > s.limits.burstRequests
            ? 'burst'
            : average + 1 > s.limits.averageRequests
              ? 'average'
              : undefined;
        if (over !== undefined) {
          state.bannedFor = over;
          // banSeconds 0 refuses only the requests over the limit, with no ban after them.
          state.bannedUntil = at + Math.max(banMs, 1);
          return limited(s, state, at);
        }
      }
      for (const s of list) {
        if (s.state === undefined) continue;
        s.state.burstCurrent++;
        s.state.averageCurrent++;
      }
      return { limited: false };
    },
  };
}
