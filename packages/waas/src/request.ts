import { extractBody } from './body.js';
import { decodeContent } from './content-encoding.js';
import { decodeBase64Text, decodeUtf8Lenient, decodeValue, MIN_BASE64_LENGTH } from './decode.js';
import { addUrlEncoded, isPlainName, ValueSink } from './values.js';
import type { InspectedValue } from './types.js';

/**
 * An HTTP request as the inspector takes it, and as `mamori waas inspect` reads it a line at a
 * time: `{"method","url","headers","body"}`.
 */
export interface HttpRequest {
  method: string;
  /** Origin form (`/path?query`) or absolute (`https://host/path?query`). */
  url: string;
  /** Header names in any case; a repeated header as an array. */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** The body, as UTF-8 text or, with `bodyEncoding: 'base64'`, as base64 of its bytes. */
  body?: string;
  /** @default 'utf8' */
  bodyEncoding?: 'utf8' | 'base64';
}

/**
 * A request from parsed JSON, or what is wrong with it (which field and why).
 * Never throws.
 */
export function toHttpRequest(json: unknown): HttpRequest | { error: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { error: 'not a JSON object' };
  }
  const o = json as Record<string, unknown>;
  const method = o['method'] ?? 'GET';
  if (typeof method !== 'string') return { error: 'method: not a string' };
  if (typeof o['url'] !== 'string') return { error: 'url: missing or not a string' };
  const headers: Record<string, string | string[]> = {};
  const h = o['headers'];
  if (h !== undefined && h !== null) {
    if (typeof h !== 'object' || Array.isArray(h)) return { error: 'headers: not an object' };
    for (const [name, value] of Object.entries(h as Record<string, unknown>)) {
      if (typeof value === 'string') headers[name] = value;
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
        headers[name] = value;
      } else return { error: `headers.${name}: not a string or a list of strings` };
    }
  }
  const body = o['body'];
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return { error: 'body: not a string' };
  }
  const enc = o['bodyEncoding'] ?? 'utf8';
  if (enc !== 'utf8' && enc !== 'base64') return { error: 'bodyEncoding: not utf8 or base64' };
  return {
    method,
    url: o['url'],
    headers,
    ...(typeof body === 'string' ? { body, bodyEncoding: enc } : {}),
  };
}

/**
 * Headers that only carry the transport (framing, caching, connection management) and
 * credentials: no application reads them as data, and an authorization value must never
 * become evidence in a finding.
 */
const SKIPPED_HEADERS = new Set([
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'accept-encoding',
  'content-encoding',
  'cache-control',
  'pragma',
  'if-modified-since',
  'if-none-match',
  'dnt',
  'priority',
  'upgrade-insecure-requests',
  'authorization',
  'proxy-authorization',
  'host',
  'cookie',
]);

/**
 * Bytes of a body inspected: beyond them a body is not read (a proxy streams it on). 128 KiB
 * covers forms and API payloads; uploads larger than that are files, not parameters.
 */
export const DEFAULT_BODY_LIMIT = 128 * 1024;

/** Options of {@link extractValues}. */
export interface ExtractOptions {
  /** Bytes of the body inspected. @default 131072 (128 KiB) */
  bodyLimit?: number;
}

/** What {@link extractValues} found in a request. */
export interface ExtractedRequest {
  values: InspectedValue[];
  /** The raw XML of an XML body: only for the XXE check, not for every detector. */
  rawXml?: InspectedValue;
  /** Whether the body was longer than the limit (the rest was not inspected). */
  bodyTruncated: boolean;
  /** Whether the request had more than MAX_VALUES values (the rest was not inspected). */
  valuesTruncated: boolean;
}

/** The path and query of a URL in origin or absolute form, without parsing that could throw. */
export function splitUrl(url: string): { path: string; query: string } {
  let rest = url;
  const scheme = rest.indexOf('://');
  if (scheme !== -1 && scheme < 10 && rest.indexOf('/') > scheme) {
    const slash = rest.indexOf('/', scheme + 3);
    const q = rest.indexOf('?', scheme + 3);
    const cut = slash === -1 ? q : q === -1 ? slash : Math.min(slash, q);
    rest = cut === -1 ? '/' : rest.slice(cut);
  }
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  return q === -1
    ? { path: rest, query: '' }
    : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

function isPlainPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 47 ||
      c === 95 ||
      c === 45 ||
      c === 46;
    if (!ok) return false;
  }
  return path.indexOf('..') === -1;
}

function addPath(rawPath: string, sink: ValueSink): void {
  if (rawPath === '' || rawPath === '/') return;
  const path = decodeValue(rawPath);
  sink.add({ location: 'path', value: path, raw: rawPath, name: '', kind: 'path' }, false);
  if (isPlainPath(rawPath)) {
    // A plain path can still carry a parameter in base64(url) (`/report/eyJpZCI6…`), which
    // the handler decodes: such a segment is inspected decoded.
    let from = 0;
    while (from < rawPath.length) {
      let end = rawPath.indexOf('/', from);
      if (end === -1) end = rawPath.length;
      if (end - from >= MIN_BASE64_LENGTH) {
        const raw = rawPath.slice(from, end);
        const text = decodeBase64Text(raw);
        if (text !== undefined) {
          sink.add(
            { location: 'path', value: decodeValue(text), raw, name: '', kind: 'path' },
            false,
          );
        }
      }
      from = end + 1;
    }
    return;
  }
  const raws = rawPath.split('/');
  // Each segment of a path with anything unusual in it (a lone one too), as an application's
  // router hands it to a handler: an injection in one segment reads as such without the slashes
  // around it.
  for (const raw of raws) {
    if (raw === '') continue;
    sink.add({ location: 'path', value: decodeValue(raw), raw, name: '', kind: 'path' });
  }
}

function addCookies(header: string, sink: ValueSink): void {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    const raw = eq === -1 ? '' : part.slice(eq + 1).trim();
    if (name === '' && raw === '') continue;
    const location = `cookie.${name}`;
    if (!isPlainName(name)) {
      sink.add({ location, value: decodeValue(name), raw: name, name, kind: 'cookie' });
    }
    if (raw !== '') {
      const unquoted =
        raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
      sink.add({ location, value: decodeValue(unquoted), raw, name, kind: 'cookie' });
    }
  }
}

/**
 * Headers as a request holds them, from name and value pairs (a header logged or recorded as a
 * list): names lower-cased, a repeated one as an array. A header named `__proto__` stays a
 * header.
 */
export function headersOf(
  pairs: Iterable<readonly [string, string]>,
): Record<string, string | string[]> {
  const headers = new Map<string, string | string[]>();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    const prior = headers.get(key);
    if (prior === undefined) headers.set(key, value);
    else if (Array.isArray(prior)) prior.push(value);
    else headers.set(key, [prior, value]);
  }
  return Object.fromEntries(headers);
}

/** The lower-cased headers of a request, repeated ones as several values. */
export function headerEntries(request: HttpRequest): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    const lower = name.toLowerCase();
    if (typeof value === 'string') out.push([lower, value]);
    else for (const v of value) out.push([lower, v]);
  }
  return out;
}

/**
 * Every value of a request that detectors look at, decoded: the path (whole and, when unusual,
 * by segment), query parameters, headers (not transport headers), cookies, and the body by its
 * content type. Never throws: a body that does not parse as its type is inspected as text.
 */
export function extractValues(
  request: HttpRequest,
  options: ExtractOptions = {},
): ExtractedRequest {
  const sink = new ValueSink();
  const { path, query } = splitUrl(request.url);
  addPath(path, sink);
  if (query !== '') addUrlEncoded(query, 'query', 'query', sink);
  let contentType = '';
  let contentEncoding = '';
  for (const [name, value] of headerEntries(request)) {
    if (name === 'cookie') addCookies(value, sink);
    if (name === 'content-type') contentType = value;
    if (name === 'content-encoding') contentEncoding = value;
    if (SKIPPED_HEADERS.has(name) || name.startsWith('sec-')) continue;
    sink.add(
      { location: `header.${name}`, value: decodeValue(value), raw: value, name, kind: 'header' },
      name !== 'user-agent',
    );
  }
  let bodyTruncated = false;
  let rawXml: InspectedValue | undefined;
  if (request.body !== undefined && request.body !== '') {
    const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    let body: string;
    const content =
      contentEncoding === ''
        ? undefined
        : decodeContent(
            Buffer.from(request.body, request.bodyEncoding === 'base64' ? 'base64' : 'utf8'),
            contentEncoding,
            limit,
          );
    if (content !== undefined) {
      bodyTruncated = content.truncated;
      body = decodeUtf8Lenient(content.bytes.subarray(0, limit));
    } else if (request.bodyEncoding === 'base64') {
      const bytes = Buffer.from(request.body, 'base64');
      bodyTruncated = bytes.length > limit;
      body = decodeUtf8Lenient(bytes.subarray(0, limit));
    } else {
      // A character is at least one byte: cutting at `limit` characters reads at most the limit
      // in ASCII and never less than it.
      bodyTruncated = request.body.length > limit;
      body = bodyTruncated ? request.body.slice(0, limit) : request.body;
    }
    rawXml = extractBody(body, contentType, sink);
  }
  return {
    values: sink.values,
    ...(rawXml === undefined ? {} : { rawXml }),
    bodyTruncated,
    valuesTruncated: sink.truncated,
  };
}
