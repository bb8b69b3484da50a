import { headersOf, type HttpRequest } from '@mamori/waas';
import type { SeenRequest } from '../event.js';
import type { AccessLogEntry } from './entry.js';

/** What `@mamori/waas`'s inspector takes, with a header logged twice as an array. */
export interface AccessLogRequest extends HttpRequest {
  headers: Record<string, string | string[]>;
  body: string;
}

/** The request an entry records, for `createInspector(...).inspect()`. */
export function entryToRequest(entry: AccessLogEntry): AccessLogRequest {
  return {
    method: entry.method,
    url: entry.url,
    headers: headersOf(entry.headers),
    body: entry.body,
  };
}

/**
 * The request an entry records as the proxy would have seen it, for `toHttpEvent`. The body's
 * size is the logged body's (or the logged Content-Length when larger); TLS is false unless the
 * log says otherwise.
 */
export function entryToSeen(entry: AccessLogEntry): SeenRequest {
  const body = Buffer.from(entry.body, 'utf8');
  const declared = Number(entry.headers.find(([name]) => name === 'content-length')?.[1]);
  return {
    method: entry.method,
    url: entry.url,
    httpVersion: entry.httpVersion,
    rawHeaders: entry.headers.flat(),
    body,
    bodySize: Number.isSafeInteger(declared) && declared > body.length ? declared : body.length,
    clientAddress: entry.clientAddress,
    clientPort: entry.clientPort,
    serverName: entry.serverName,
    serverPort: entry.serverPort,
    tls: entry.tls ?? false,
  };
}
