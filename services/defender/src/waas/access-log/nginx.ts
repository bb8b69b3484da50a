import { plainAddress } from '../headers.js';
import {
  addHeader,
  emptyEntry,
  httpVersionOf,
  isToken,
  parseCommonLogTime,
  parseEpochSeconds,
  parseIsoTime,
  parseJsonObject,
  present,
  splitHostPort,
  splitRequestLine,
  toCount,
  toDecimal,
  type AccessLogParseResult,
} from './entry.js';

/**
 * An entry from the object of an nginx `log_format ... escape=json` line, whose keys are the
 * variables' names (`remote_addr`, `request_uri`, `http_user_agent`, …). Only a method and a
 * URI are required: a field that is absent or not what its variable holds is left empty, so
 * the request is still inspected.
 */
export function nginxEntry(o: Record<string, unknown>): AccessLogParseResult {
  const request = present(o['request']);
  const line = request === undefined ? undefined : splitRequestLine(request);
  const method = present(o['request_method']) ?? present(line?.method);
  if (method === undefined) return { error: 'no request method (request_method or request)' };
  if (!isToken(method)) return { error: 'request method is not an HTTP token' };
  let url = present(o['request_uri']) ?? present(line?.url);
  if (url === undefined) {
    // `$uri` is normalised (decoded, merged slashes) and has no query: a last resort.
    const uri = present(o['uri']);
    const args = present(o['args']) ?? present(o['query_string']);
    if (uri !== undefined) url = args === undefined ? uri : `${uri}?${args}`;
  }
  if (url === undefined) return { error: 'no request URI (request_uri, request or uri)' };

  const entry = emptyEntry();
  entry.method = method;
  entry.url = url;
  entry.httpVersion = httpVersionOf(present(o['server_protocol']) ?? line?.protocol);

  // `$host` is the Host header without its port (or the server name): the header itself is
  // `$http_host`, taken below when logged.
  if (present(o['http_host']) === undefined) addHeader(entry, 'host', o['host']);
  for (const [key, value] of Object.entries(o)) {
    if (key.startsWith('http_') && key.length > 5) {
      addHeader(entry, key.slice(5).replaceAll('_', '-'), value);
    } else if (key === 'content_type' || key === 'content_length') {
      addHeader(entry, key.replace('_', '-'), value);
    }
  }

  const body = present(o['request_body']);
  if (body !== undefined) entry.body = body;
  entry.clientAddress = plainAddress(present(o['remote_addr']) ?? '');
  entry.clientPort = toCount(o['remote_port']) ?? 0;
  const httpHost = present(o['http_host']);
  const hostHeader = httpHost === undefined ? undefined : splitHostPort(httpHost);
  entry.serverName = present(o['host']) ?? hostHeader?.host ?? present(o['server_name']) ?? '';
  entry.serverPort = toCount(o['server_port']) ?? hostHeader?.port ?? 0;
  entry.status = toCount(o['status']) ?? 0;
  entry.bytesSent = toCount(o['body_bytes_sent']) ?? toCount(o['bytes_sent']) ?? 0;
  const seconds = toDecimal(o['request_time']);
  // nginx logs milliseconds as a fraction of a second: rounding to microseconds drops float noise.
  if (seconds !== undefined) entry.durationMs = Math.round(seconds * 1e6) / 1e3;
  entry.timeUnixMicros = timeOf(o);
  if ('scheme' in o) entry.tls = o['scheme'] === 'https';
  else if ('https' in o) entry.tls = o['https'] === 'on';
  return { entry };
}

/** The most precise timestamp logged: `$msec`, then `$time_iso8601`, then `$time_local`. */
function timeOf(o: Record<string, unknown>): number | undefined {
  const iso = present(o['time_iso8601']);
  const local = present(o['time_local']);
  return (
    parseEpochSeconds(o['msec']) ??
    (iso === undefined ? undefined : parseIsoTime(iso)) ??
    (local === undefined ? undefined : parseCommonLogTime(local))
  );
}

/** Parses a line of nginx's `log_format ... escape=json` (see the README). Never throws. */
export function parseNginxJsonLine(line: string): AccessLogParseResult {
  const parsed = parseJsonObject(line);
  return 'error' in parsed ? parsed : nginxEntry(parsed.object);
}
