import type { Event } from '@mamori/proto';
import type { EventPriority } from '../sensors/sensor.js';
import type { Verdict } from '@mamori/waas';

/** Header values that are credentials: an event keeps the header's presence, not its value. */
const REDACTED = new Set(['authorization', 'proxy-authorization']);

/**
 * Bytes of a body an event keeps (body_size tells the full length): enough to see a payload,
 * and small enough that a flood of blocked uploads costs the pipeline little and no event
 * nears ingest's event size limit (256 KiB by default).
 */
export const EVENT_BODY_BYTES = 32 * 1024;

/** Labels are small (event.proto): lists of categories and locations are cut to this. */
const LABEL_MAX_CHARS = 200;

/** What the proxy saw of one request, for its event. */
export interface SeenRequest {
  method: string;
  url: string;
  httpVersion: string;
  /** Raw header names and values as received, alternating (Node's `rawHeaders`). */
  rawHeaders: readonly string[];
  /** The bytes of the body that were inspected (at most the inspection limit). */
  body: Buffer;
  /** The body's full length when known (Content-Length or read to its end), else the bytes read. */
  bodySize: number;
  clientAddress: string;
  clientPort: number;
  serverName: string;
  serverPort: number;
  tls: boolean;
}

function cut(text: string): string {
  return text.length <= LABEL_MAX_CHARS ? text : `${text.slice(0, LABEL_MAX_CHARS - 1)}…`;
}

/** Distinct values in first-seen order. */
function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** What else an event says besides the verdict. */
export interface HttpEventContext {
  /** The sensor: `waas` (the inline proxy) or `access-log`. @default 'waas' */
  sensor?: string;
  /** True when the request was refused (403 or 429). */
  enforced?: boolean;
  /** The web application policy the request was judged under; undefined for local settings. */
  policy?: string | undefined;
}

/**
 * The `http_request` event of an inspected request, the verdict in labels (the contract the
 * detector's WAAS rules read): `waas.action` (allow, alert, block), `waas.enforced` (`true`
 * when refused), `waas.score`, `waas.categories` and `waas.locations` (comma-separated),
 * `waas.reason` and `waas.evidence` of the most confident finding, `waas.policy`, and
 * `waas.sampled` for a clean request sent as a sample. Never throws.
 */
export function toHttpEvent(
  id: string,
  request: SeenRequest,
  verdict: Verdict,
  observedUnixMicros: number,
  context: HttpEventContext = {},
): Event {
  const labels: Record<string, string> = {
    sensor: context.sensor ?? 'waas',
    'waas.action': verdict.action,
    'waas.score': String(Math.round(verdict.score * 100) / 100),
  };
  if (context.enforced === true) labels['waas.enforced'] = 'true';
  if (context.policy !== undefined && context.policy !== '') labels['waas.policy'] = context.policy;
  if (verdict.findings.length > 0) {
    labels['waas.categories'] = cut(distinct(verdict.findings.map((f) => f.category)).join(','));
    labels['waas.locations'] = cut(distinct(verdict.findings.map((f) => f.location)).join(','));
    const top = verdict.findings.reduce((a, b) => (b.confidence > a.confidence ? b : a));
    labels['waas.reason'] = cut(top.reason);
    labels['waas.evidence'] = cut(top.evidence);
  } else {
    labels['waas.sampled'] = 'true';
  }
  const headers: { name: string; value: string }[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    const value = request.rawHeaders[i + 1]!;
    headers.push({ name, value: REDACTED.has(name.toLowerCase()) ? '[redacted]' : value });
  }
  return {
    id,
    observed_unix_micros: observedUnixMicros,
    labels,
    http_request: {
      request_id: id,
      method: request.method,
      url: request.url,
      http_version: request.httpVersion,
      headers,
      body:
        request.body.length > EVENT_BODY_BYTES
          ? request.body.subarray(0, EVENT_BODY_BYTES)
          : request.body,
      body_size: request.bodySize,
      client_address: request.clientAddress,
      client_port: request.clientPort,
      server_name: request.serverName,
      server_port: request.serverPort,
      tls: request.tls,
    },
  };
}

/** Requests that were refused or judged worth an alert go before samples when events drop. */
export function priorityOfHttpEvent(event: Event): EventPriority {
  const action = event.labels?.['waas.action'];
  return action === 'block' || action === 'alert' ? 'high' : 'low';
}
