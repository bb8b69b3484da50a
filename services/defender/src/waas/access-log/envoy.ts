import { plainAddress } from '../headers.js';
import {
  addHeader,
  emptyEntry,
  httpVersionOf,
  isToken,
  parseIsoTime,
  parseJsonObject,
  present,
  splitHostPort,
  splitRequestLine,
  toCount,
  toDecimal,
  type AccessLogEntry,
  type AccessLogParseResult,
} from './entry.js';

/**
 * Keys of an envoy `json_format` that hold request headers, as people (and Istio's JSON
 * encoding) name them after their command operators: `%REQ(USER-AGENT)%` as `user_agent`.
 */
const ENVOY_JSON_HEADERS: ReadonlyMap<string, string> = new Map([
  ['authority', 'host'],
  ['user_agent', 'user-agent'],
  ['referer', 'referer'],
  ['x_forwarded_for', 'x-forwarded-for'],
  ['x_forwarded_proto', 'x-forwarded-proto'],
  ['request_id', 'x-request-id'],
  ['x_request_id', 'x-request-id'],
  ['content_type', 'content-type'],
  ['cookie', 'cookie'],
  ['authorization', 'authorization'],
]);

/** serverName and serverPort from `:authority` (host and port), else from the fallbacks. */
function setServer(entry: AccessLogEntry, authority: string | undefined, sni: string | undefined) {
  const { host, port } = splitHostPort(authority ?? '');
  entry.serverName = host !== '' ? host : (sni ?? '');
  entry.serverPort = port;
}

/**
 * An entry from the object of an envoy `json_format` line with the usual keys (`method`,
 * `path`, `protocol`, `response_code`, `bytes_sent`, `duration`, `start_time`, `authority`,
 * `downstream_remote_address`, …). Only `method` and `path` are required.
 */
export function envoyEntry(o: Record<string, unknown>): AccessLogParseResult {
  const method = present(o['method']);
  if (method === undefined) return { error: 'no request method (method)' };
  if (!isToken(method)) return { error: 'request method is not an HTTP token' };
  const path = present(o['path']);
  if (path === undefined) return { error: 'no request path (path)' };

  const entry = emptyEntry();
  entry.method = method;
  entry.url = path;
  entry.httpVersion = httpVersionOf(present(o['protocol']));
  for (const [key, value] of Object.entries(o)) {
    const header = ENVOY_JSON_HEADERS.get(key);
    if (header !== undefined) addHeader(entry, header, value);
  }
  const remote = present(o['downstream_remote_address']);
  if (remote !== undefined) {
    const { host, port } = splitHostPort(remote);
    entry.clientAddress = plainAddress(host);
    entry.clientPort = port;
  }
  const sni = present(o['requested_server_name']);
  setServer(entry, present(o['authority']), sni);
  if (entry.serverPort === 0) {
    entry.serverPort = splitHostPort(present(o['downstream_local_address']) ?? '').port;
  }
  entry.status = toCount(o['response_code']) ?? 0;
  entry.bytesSent = toCount(o['bytes_sent']) ?? 0;
  entry.durationMs = toDecimal(o['duration']) ?? 0;
  const start = present(o['start_time']);
  entry.timeUnixMicros = start === undefined ? undefined : parseIsoTime(start);
  // SNI is only sent in a TLS handshake; without it the log does not say.
  if (sni !== undefined) entry.tls = true;
  return { entry };
}

/** Parses a line of an envoy `json_format` access log. Never throws. */
export function parseEnvoyJsonLine(line: string): AccessLogParseResult {
  const parsed = parseJsonObject(line);
  return 'error' in parsed ? parsed : envoyEntry(parsed.object);
}

// ---- envoy's default text format ----

/** How a field of the default format is written. */
type Shape = 'bracketed' | 'quoted' | 'bare';

/**
 * Envoy's default format string, field by field, one space apart:
 * `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%"
 * "%UPSTREAM_HOST%"`.
 */
const TEXT_FIELDS: readonly (readonly [name: string, shape: Shape])[] = [
  ['start time', 'bracketed'],
  ['request line', 'quoted'],
  ['response code', 'bare'],
  ['response flags', 'bare'],
  ['bytes received', 'bare'],
  ['bytes sent', 'bare'],
  ['duration', 'bare'],
  ['upstream service time', 'bare'],
  ['x-forwarded-for', 'quoted'],
  ['user agent', 'quoted'],
  ['request id', 'quoted'],
  ['authority', 'quoted'],
  ['upstream host', 'quoted'],
];

/**
 * The field at `at` and where it ends; `missing` when the text there is not of that shape,
 * `unclosed` when its closing quote or bracket never comes. Envoy does not escape quotes in
 * text logs, so a quoted field ends at the first `"` followed by a space or the end of the
 * line: a header value with `"` inside stays whole unless it holds `" `. Each character is
 * looked at once at most (linear time).
 */
function fieldAt(
  text: string,
  at: number,
  shape: Shape,
): { value: string; end: number } | 'missing' | 'unclosed' {
  if (shape === 'bare') {
    const space = text.indexOf(' ', at);
    const end = space < 0 ? text.length : space;
    return end === at ? 'missing' : { value: text.slice(at, end), end };
  }
  const open = shape === 'quoted' ? '"' : '[';
  const close = shape === 'quoted' ? '"' : ']';
  if (text[at] !== open) return 'missing';
  for (let from = at + 1; ;) {
    const found = text.indexOf(close, from);
    if (found < 0) return 'unclosed';
    const next = text[found + 1];
    if (next === undefined || next === ' ') {
      return { value: text.slice(at + 1, found), end: found + 1 };
    }
    from = found + 1;
  }
}

/** A count or `-` (not logged: 0); undefined for anything else. */
function countOrDash(value: string): number | undefined {
  return value === '-' ? 0 : toCount(value);
}

/**
 * Parses a line of envoy's default text format (see {@link TEXT_FIELDS}); what follows the
 * upstream host is ignored. Never throws.
 */
export function parseEnvoyTextLine(line: string): AccessLogParseResult {
  const text = line.trimEnd();
  const values: string[] = [];
  let at = 0;
  for (const [name, shape] of TEXT_FIELDS) {
    if (values.length > 0) {
      if (at >= text.length) return { error: `ends before the ${name} (cut short?)` };
      if (text[at] !== ' ')
        return { error: `expected a space before the ${name} at column ${at + 1}` };
      at++;
    }
    const field = fieldAt(text, at, shape);
    if (field === 'unclosed') return { error: `the ${name} is not closed (cut short?)` };
    if (field === 'missing') {
      return {
        error:
          at >= text.length
            ? `ends before the ${name} (cut short?)`
            : `expected the ${shape} ${name} at column ${at + 1} (not envoy's default format?)`,
      };
    }
    values.push(field.value);
    at = field.end;
  }
  const [start, request, code, , received, sent, duration, upstreamTime, xff, ua, id, authority] =
    values;

  const { method, url, protocol } = splitRequestLine(request ?? '');
  if (present(method) === undefined) return { error: 'no request method' };
  if (!isToken(method)) return { error: 'request method is not an HTTP token' };
  if (present(url) === undefined) return { error: 'no request path' };
  const status = toCount(code);
  if (status === undefined) return { error: 'response code: not a number' };
  if (countOrDash(received ?? '') === undefined) return { error: 'bytes received: not a number' };
  const bytesSent = countOrDash(sent ?? '');
  if (bytesSent === undefined) return { error: 'bytes sent: not a number' };
  const durationMs = countOrDash(duration ?? '');
  if (durationMs === undefined) return { error: 'duration: not a number' };
  if (countOrDash(upstreamTime ?? '') === undefined) {
    return { error: "upstream service time: not a number (not envoy's default format?)" };
  }

  const entry = emptyEntry();
  entry.method = method;
  entry.url = url;
  entry.httpVersion = httpVersionOf(protocol);
  addHeader(entry, 'host', authority);
  addHeader(entry, 'user-agent', ua);
  addHeader(entry, 'x-forwarded-for', xff);
  addHeader(entry, 'x-request-id', id);
  setServer(entry, present(authority), undefined);
  entry.status = status;
  entry.bytesSent = bytesSent;
  entry.durationMs = durationMs;
  entry.timeUnixMicros = parseIsoTime(start ?? '');
  return { entry };
}
