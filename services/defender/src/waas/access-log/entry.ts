/**
 * What an access log records of one request, whatever the format. Fields a format does not log
 * are empty: '' for text, 0 for numbers, [] for headers, undefined for the time and TLS.
 */
export interface AccessLogEntry {
  method: string;
  /** Path and query as logged (not decoded). */
  url: string;
  /** Without the `HTTP/` prefix, as Node reports it: `1.1`, `2.0`, `2`; '' when not logged. */
  httpVersion: string;
  /** Request headers the log records, lower-case names, in the log's order; credentials redacted. */
  headers: [name: string, value: string][];
  /** The request body when the log records it (nginx `$request_body`), else ''. */
  body: string;
  clientAddress: string;
  /** 0 when not logged. */
  clientPort: number;
  /** The host the request was addressed to, without a port. */
  serverName: string;
  /** 0 when not logged. */
  serverPort: number;
  /** The response status; 0 when not logged (envoy: no response was sent). */
  status: number;
  /** Body bytes sent to the client; 0 when not logged. */
  bytesSent: number;
  /** Time the request took, in milliseconds; 0 when not logged. */
  durationMs: number;
  /** When the request was made (or logged), from the log's timestamp; undefined when absent or unparseable. */
  timeUnixMicros: number | undefined;
  /** Whether the request came over TLS, when the log says (nginx `scheme`, `https`; envoy SNI). */
  tls?: boolean | undefined;
}

/** A parsed line, or what is wrong with it; the error never quotes the line. */
export type AccessLogParseResult = { entry: AccessLogEntry } | { error: string };

/** Parses one line of an access log. Never throws. */
export type AccessLogParser = (line: string) => AccessLogParseResult;

/** The value an access log entry stands in for credentials with. */
export const REDACTED = '[redacted]';

/** Header names whose values are credentials: an entry keeps that they were sent, not what. */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization']);

/**
 * The object a JSON line holds, or what is wrong with it. The JSON parser's own message is not
 * passed on: V8 quotes the text around the fault, and the line may hold credentials.
 */
export function parseJsonObject(
  line: string,
): { object: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    const text = line.trimEnd();
    if (text.includes('\\x'))
      return { error: 'not JSON: \\xHH escapes (a log_format without escape=json?)' };
    if (!text.endsWith('}')) return { error: 'not JSON: cut short (no closing brace)' };
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'not a JSON object' };
  }
  return { object: value as Record<string, unknown> };
}

/** An empty entry, to be filled by a parser. */
export function emptyEntry(): AccessLogEntry {
  return {
    method: '',
    url: '',
    httpVersion: '',
    headers: [],
    body: '',
    clientAddress: '',
    clientPort: 0,
    serverName: '',
    serverPort: 0,
    status: 0,
    bytesSent: 0,
    durationMs: 0,
    timeUnixMicros: undefined,
  };
}

/**
 * A logged value as text, or undefined when the log says it is absent: nginx writes `-` (and,
 * with escape=json, '' for an unset variable), envoy `-` in text and null in JSON.
 */
export function present(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string' || value === '' || value === '-') return undefined;
  return value;
}

/** Adds a header unless its value is absent or a header of that name is already there. */
export function addHeader(entry: AccessLogEntry, name: string, value: unknown): void {
  const text = present(value);
  if (text === undefined) return;
  const lower = name.toLowerCase();
  if (entry.headers.some(([n]) => n === lower)) return;
  entry.headers.push([lower, CREDENTIALS.has(lower) ? REDACTED : text]);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A non-negative integer (a number, or a string of digits), else undefined. */
export function toCount(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 15) return undefined;
  for (let i = 0; i < value.length; i++) if (!isDigit(value.charCodeAt(i))) return undefined;
  return Number(value);
}

/** A non-negative decimal (`0.003`, `12`), else undefined. */
export function toDecimal(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 32) return undefined;
  let dot = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 46 && !dot && i > 0 && i < value.length - 1) dot = true;
    else if (!isDigit(c)) return undefined;
  }
  return Number(value);
}

/** Whether a string is an HTTP method: a token (RFC 9110 §5.6.2). */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      isDigit(c) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      "!#$%&'*+-.^_`|~".includes(text[i]!);
    if (!ok) return false;
  }
  return true;
}

/** `HTTP/1.1` → `1.1`; '' for an absent or unknown protocol. */
export function httpVersionOf(protocol: string | undefined): string {
  if (protocol === undefined || !protocol.startsWith('HTTP/')) return '';
  return protocol.slice(5);
}

/**
 * A request line as nginx logs it (`$request`) or envoy quotes it: the method up to the first
 * space, the protocol after the last one when it looks like one, the target in between (nginx
 * logs a target with spaces as the client sent it).
 */
export function splitRequestLine(line: string): { method: string; url: string; protocol: string } {
  const first = line.indexOf(' ');
  if (first < 0) return { method: line, url: '', protocol: '' };
  const method = line.slice(0, first);
  const rest = line.slice(first + 1);
  const last = rest.lastIndexOf(' ');
  if (last >= 0) {
    const protocol = rest.slice(last + 1);
    if (protocol === '-' || protocol.startsWith('HTTP/')) {
      return { method, url: rest.slice(0, last), protocol };
    }
  }
  return { method, url: rest, protocol: '' };
}

/** `1.2.3.4:80`, `[::1]:80`, `host:80`, `host`, `2001:db8::1` → address and port (0 when none). */
export function splitHostPort(text: string): { host: string; port: number } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { host: text, port: 0 };
    const host = text.slice(1, close);
    const port = text[close + 1] === ':' ? toCount(text.slice(close + 2)) : undefined;
    return { host, port: port !== undefined && port <= 65535 ? port : 0 };
  }
  const colon = text.indexOf(':');
  // A second colon: a bare IPv6 address, which has no port.
  if (colon < 0 || text.indexOf(':', colon + 1) >= 0) return { host: text, port: 0 };
  const port = toCount(text.slice(colon + 1));
  return { host: text.slice(0, colon), port: port !== undefined && port <= 65535 ? port : 0 };
}

// ---- timestamps: hand-written, fixed-position readers (log data is attacker-influenced) ----

/** The number made of `count` digits at `at`, or -1. */
function digitsAt(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Unix microseconds of a UTC date and time, or undefined when a field is out of range. */
function utcMicros(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  micros: number,
  offsetMinutes: number,
): number | undefined {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59) return undefined;
  if (second < 0 || second > 60 || hour < 0 || minute < 0) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 April over to 1 May: a date that does not exist is unparseable.
  if (new Date(ms).getUTCDate() !== day && second !== 60) return undefined;
  return (ms - offsetMinutes * 60_000) * 1000 + micros;
}

/** `Z`, `+02:00`, `-0700`, `+02` at `at` (to the end of the text) → minutes east of UTC. */
function zoneAt(text: string, at: number): number | undefined {
  const sign = text[at];
  if ((sign === 'Z' || sign === 'z') && at + 1 === text.length) return 0;
  if (sign !== '+' && sign !== '-') return undefined;
  const hours = digitsAt(text, at + 1, 2);
  if (hours < 0 || hours > 23) return undefined;
  let minutes = 0;
  const rest = text.length - (at + 3);
  if (rest === 3 && text[at + 3] === ':') minutes = digitsAt(text, at + 4, 2);
  else if (rest === 2) minutes = digitsAt(text, at + 3, 2);
  else if (rest !== 0) return undefined;
  if (minutes < 0 || minutes > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * ISO 8601 / RFC 3339 with a zone (`2024-05-01T12:00:00.123Z`, `2024-05-01T14:00:00+02:00`) →
 * Unix microseconds. A time without a zone is ambiguous: undefined.
 */
export function parseIsoTime(text: string): number | undefined {
  if (text.length < 20 || text.length > 40) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return undefined;
  if (text[10] !== 'T' && text[10] !== 't' && text[10] !== ' ') return undefined;
  let at = 19;
  let micros = 0;
  if (text[at] === '.' || text[at] === ',') {
    at++;
    let scale = 100_000;
    const start = at;
    while (at < text.length && isDigit(text.charCodeAt(at))) {
      micros += (text.charCodeAt(at) - 48) * scale;
      scale = Math.floor(scale / 10);
      at++;
    }
    if (at === start) return undefined;
  }
  const offset = zoneAt(text, at);
  if (offset === undefined) return undefined;
  return utcMicros(year, month, day, hour, minute, second, micros, offset);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's `$time_local` (`01/May/2024:12:00:00 +0200`) → Unix microseconds. */
export function parseCommonLogTime(text: string): number | undefined {
  if (text.length !== 26 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':') {
    return undefined;
  }
  if (text[14] !== ':' || text[17] !== ':' || text[20] !== ' ') return undefined;
  const month = MONTHS.indexOf(text.slice(3, 6)) + 1;
  const offset = zoneAt(text, 21);
  if (month === 0 || offset === undefined) return undefined;
  return utcMicros(
    digitsAt(text, 7, 4),
    month,
    digitsAt(text, 0, 2),
    digitsAt(text, 12, 2),
    digitsAt(text, 15, 2),
    digitsAt(text, 18, 2),
    0,
    offset,
  );
}

/** nginx's `$msec` (`1714557600.123`, seconds with a fraction) → Unix microseconds. */
export function parseEpochSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? Math.round(value * 1e6) : undefined;
  }
  if (typeof value !== 'string' || toDecimal(value) === undefined) return undefined;
  const dot = value.indexOf('.');
  const whole = Number(dot < 0 ? value : value.slice(0, dot));
  const fraction = dot < 0 ? '' : value.slice(dot + 1, dot + 7);
  return whole * 1e6 + Number(fraction.padEnd(6, '0'));
}
