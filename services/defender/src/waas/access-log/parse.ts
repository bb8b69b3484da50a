import { envoyEntry, parseEnvoyJsonLine, parseEnvoyTextLine } from './envoy.js';
import { parseJsonObject, type AccessLogParser, type AccessLogParseResult } from './entry.js';
import { nginxEntry, parseNginxJsonLine } from './nginx.js';

/** The access log formats read; `auto` tells them apart line by line. */
export const ACCESS_LOG_FORMATS = ['nginx-json', 'envoy-json', 'envoy-text', 'auto'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** Keys only nginx's variables give a JSON line (envoy's operators are named otherwise). */
const NGINX_KEYS = ['request_method', 'request', 'request_uri', 'uri'];

/**
 * A line of any supported format: one starting with `{` is JSON, read as nginx's when it has
 * `request_method`, `request`, `request_uri` or `uri`, else as envoy's; any other line is
 * envoy's default text format. Never throws.
 */
export function parseAutoLine(line: string): AccessLogParseResult {
  if (!line.trimStart().startsWith('{')) return parseEnvoyTextLine(line);
  const parsed = parseJsonObject(line);
  if ('error' in parsed) return parsed;
  const o = parsed.object;
  if (NGINX_KEYS.some((key) => Object.hasOwn(o, key))) return nginxEntry(o);
  if (Object.hasOwn(o, 'method') || Object.hasOwn(o, 'path')) return envoyEntry(o);
  return { error: 'no request method (neither nginx request_method nor envoy method)' };
}

/** The parser of a format. */
export function accessLogParser(format: AccessLogFormat): AccessLogParser {
  switch (format) {
    case 'nginx-json':
      return parseNginxJsonLine;
    case 'envoy-json':
      return parseEnvoyJsonLine;
    case 'envoy-text':
      return parseEnvoyTextLine;
    case 'auto':
      return parseAutoLine;
  }
}

/** Parses one line in the given format. Never throws. */
export function parseAccessLogLine(line: string, format: AccessLogFormat): AccessLogParseResult {
  return accessLogParser(format)(line);
}
