/**
 * Request bodies by content type: URL-encoded forms, JSON, multipart/form-data, XML, and
 * anything else as one text value. Each parser is a single pass over the (already bounded)
 * body; a body that does not parse as its type is inspected as text. Never throws.
 */
import { decodeHtmlEntities, decodeValue } from './decode.js';
import { addUrlEncoded, isPlainName, type ValueSink } from './values.js';
import type { InspectedValue } from './types.js';

/** Nesting of JSON followed: deeper values are inspected as the text of the whole body. */
const MAX_JSON_DEPTH = 64;

function addText(body: string, location: string, name: string, sink: ValueSink): void {
  sink.add({ location, value: decodeValue(body), raw: body, name, kind: 'body' });
}

function jsonChild(path: string, key: string): string {
  return `${path}.${key}`;
}

/** Walks parsed JSON: string values at their path, keys as `json-key` values. */
function walkJson(
  node: unknown,
  path: string,
  name: string,
  depth: number,
  sink: ValueSink,
): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (typeof node === 'string') {
    sink.add({ location: path, value: decodeValue(node), raw: node, name, kind: 'body' });
    return true;
  }
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      if (!walkJson(node[i], `${path}[${i}]`, name, depth + 1, sink)) return false;
    }
    return true;
  }
  if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      const child = jsonChild(path, key);
      sink.add({ location: child, value: key, raw: key, name: key, kind: 'json-key' }, false);
      if (!walkJson(value, child, key, depth + 1, sink)) return false;
    }
  }
  return true;
}

function addJson(body: string, sink: ValueSink): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  // JSON.parse turns "__proto__" into an own property, which Object.entries lists: the key
  // reaches the prototype-pollution check.
  const mark = sink.values.length;
  if (walkJson(parsed, 'body', '', 0, sink)) return true;
  sink.values.length = mark;
  return false;
}

/** The value of `name=` in a header's parameters (`; boundary=…`, `; name="…"`). */
function headerParam(header: string, param: string): string | undefined {
  const lower = header.toLowerCase();
  let from = 0;
  for (;;) {
    const at = lower.indexOf(param + '=', from);
    if (at === -1) return undefined;
    const before = at === 0 ? ';' : lower[at - 1]!;
    from = at + param.length + 1;
    if (before !== ';' && before !== ' ' && before !== '\t') continue;
    if (header[from] === '"') {
      const end = header.indexOf('"', from + 1);
      return header.slice(from + 1, end === -1 ? header.length : end);
    }
    let end = header.indexOf(';', from);
    if (end === -1) end = header.length;
    return header.slice(from, end).trim();
  }
}

function addMultipart(body: string, contentType: string, sink: ValueSink): boolean {
  const boundary = headerParam(contentType, 'boundary');
  if (boundary === undefined || boundary === '') return false;
  const delimiter = `--${boundary}`;
  let at = body.indexOf(delimiter);
  if (at === -1) return false;
  let parts = 0;
  for (;;) {
    const start = at + delimiter.length;
    if (body.startsWith('--', start)) break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    let part = body.slice(start, next);
    if (part.startsWith('\r\n')) part = part.slice(2);
    else if (part.startsWith('\n')) part = part.slice(1);
    if (part.endsWith('\r\n')) part = part.slice(0, -2);
    else if (part.endsWith('\n')) part = part.slice(0, -1);
    let sep = part.indexOf('\r\n\r\n');
    let sepLength = 4;
    if (sep === -1) {
      sep = part.indexOf('\n\n');
      sepLength = 2;
    }
    const head = sep === -1 ? part : part.slice(0, sep);
    const content = sep === -1 ? '' : part.slice(sep + sepLength);
    let disposition = '';
    let partType = '';
    for (const line of head.split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const headerName = line.slice(0, colon).trim().toLowerCase();
      if (headerName === 'content-disposition') disposition = line.slice(colon + 1);
      else if (headerName === 'content-type') partType = line.slice(colon + 1).trim();
    }
    const name = headerParam(disposition, 'name') ?? '';
    const filename = headerParam(disposition, 'filename');
    const location = `body.${name}`;
    // A field name is data the application reads (as a form's names are): inspected unless plain.
    if (!isPlainName(name)) {
      sink.add({ location, value: decodeValue(name), raw: name, name, kind: 'body' });
    }
    if (filename !== undefined) {
      sink.add({
        location: `${location}.filename`,
        value: decodeValue(filename),
        raw: filename,
        name,
        kind: 'body',
      });
    }
    // A file's content is inspected when it is text a server would read (not an image).
    const textual =
      filename === undefined ||
      partType === '' ||
      partType.startsWith('text/') ||
      partType.includes('json') ||
      partType.includes('xml');
    if (content !== '' && textual) {
      sink.add({ location, value: decodeValue(content), raw: content, name, kind: 'body' });
    }
    parts++;
    at = next;
  }
  return parts > 0;
}

function isNameChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 95 ||
    c === 45 ||
    c === 46 ||
    c === 58 ||
    c > 127
  );
}

/**
 * Text and attribute values of XML, by a linear scan (no entity expansion, no DTD reading).
 * False when there is no tag, or markup no XML parser accepts (an unquoted attribute value):
 * the body is then read as text.
 */
function addXml(body: string, sink: ValueSink): boolean {
  const n = body.length;
  let i = 0;
  let element = '';
  let sawTag = false;
  let malformed = false;
  const addXmlValue = (raw: string, location: string, name: string, cdata = false): void => {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    // The XML parser resolves character and entity references once (not in CDATA); what it
    // hands the application is then decoded as any value is (URL, entities again, escapes): a
    // value the client escaped for HTML before putting it in XML (`&amp;#39;`) reads as `'`.
    const text = cdata ? trimmed : decodeHtmlEntities(trimmed);
    sink.add({ location, value: decodeValue(text), raw: trimmed, name, kind: 'body' });
  };
  while (i < n) {
    const lt = body.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) addXmlValue(body.slice(i, textEnd), `body.${element}`, element);
    if (lt === -1) break;
    if (body.startsWith('<![CDATA[', lt)) {
      const end = body.indexOf(']]>', lt + 9);
      const stop = end === -1 ? n : end;
      addXmlValue(body.slice(lt + 9, stop), `body.${element}`, element, true);
      i = end === -1 ? n : end + 3;
      continue;
    }
    if (body.startsWith('<!--', lt)) {
      const end = body.indexOf('-->', lt + 4);
      i = end === -1 ? n : end + 3;
      continue;
    }
    if (body.startsWith('<!', lt) || body.startsWith('<?', lt)) {
      // A DOCTYPE's internal subset has `>` inside brackets: skip to the `]>` that closes it.
      const bracket = body.indexOf('[', lt);
      const gt = body.indexOf('>', lt);
      let end = gt;
      if (bracket !== -1 && gt !== -1 && bracket < gt) {
        const close = body.indexOf(']', bracket);
        end = close === -1 ? -1 : body.indexOf('>', close);
      }
      i = end === -1 ? n : end + 1;
      continue;
    }
    // A tag: its name, then attributes up to `>`.
    let j = lt + 1;
    if (body.charCodeAt(j) === 47 /* / */) {
      const gt = body.indexOf('>', j);
      i = gt === -1 ? n : gt + 1;
      continue;
    }
    const nameStart = j;
    while (j < n && isNameChar(body.charCodeAt(j))) j++;
    if (j === nameStart) {
      // A `<` that opens no tag is text.
      addXmlValue('<', `body.${element}`, element);
      i = lt + 1;
      continue;
    }
    sawTag = true;
    element = body.slice(nameStart, j);
    for (;;) {
      while (j < n && body.charCodeAt(j) <= 32) j++;
      if (j >= n) break;
      const c = body.charCodeAt(j);
      if (c === 62 /* > */) {
        j++;
        break;
      }
      if (c === 47 /* / */) {
        j++;
        continue;
      }
      const attrStart = j;
      while (j < n && isNameChar(body.charCodeAt(j))) j++;
      const attr = body.slice(attrStart, j);
      if (j === attrStart) {
        j++;
        continue;
      }
      while (j < n && body.charCodeAt(j) <= 32) j++;
      if (body.charCodeAt(j) !== 61 /* = */) continue;
      j++;
      while (j < n && body.charCodeAt(j) <= 32) j++;
      const quote = body.charCodeAt(j);
      if (quote !== 34 && quote !== 39) {
        // An unquoted value (`<img src=x onerror=…>`) is HTML, not XML: no XML parser reads it.
        malformed = true;
        continue;
      }
      {
        const end = body.indexOf(String.fromCharCode(quote), j + 1);
        const stop = end === -1 ? n : end;
        // Namespace declarations are URIs of the document's vocabulary, not data.
        if (attr !== 'xmlns' && !attr.startsWith('xmlns:')) {
          addXmlValue(body.slice(j + 1, stop), `body.${element}@${attr}`, attr);
        }
        j = stop + 1;
      }
    }
    i = j;
  }
  return sawTag && !malformed;
}

function looksLikeXml(body: string): boolean {
  const t = body.trimStart();
  return t.startsWith('<?xml') || t.startsWith('<!DOCTYPE') || t.startsWith('<soap');
}

/**
 * Adds a body's values to `sink` by its content type (or, with none, by what it looks like).
 * Returns the raw XML as one value when the body is XML, for the XXE check.
 */
export function extractBody(
  body: string,
  contentType: string,
  sink: ValueSink,
): InspectedValue | undefined {
  const type = contentType.toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    addUrlEncoded(body, 'body', 'body', sink);
    return undefined;
  }
  if (type.startsWith('multipart/')) {
    if (!addMultipart(body, contentType, sink)) addText(body, 'body', '', sink);
    return undefined;
  }
  const first = body.trimStart()[0];
  if ((type.includes('json') || first === '{' || first === '[') && !type.includes('xml')) {
    if (!addJson(body, sink)) addText(body, 'body', '', sink);
    return undefined;
  }
  if (type.includes('xml') || looksLikeXml(body)) {
    if (!addXml(body, sink)) addText(body, 'body', '', sink);
    return { location: 'body', value: body, raw: body, name: '', kind: 'body' };
  }
  addText(body, 'body', '', sink);
  // An untyped body that is one element (`<value>…</value>`) is XML to the application that
  // parses it and markup to one that reflects it: both readings are inspected.
  if (!type.includes('html') && looksLikeElement(body)) addXml(body, sink);
  return undefined;
}

/** Whether a body is one element: `<name`, …, `</name>` at the end. */
function looksLikeElement(body: string): boolean {
  const t = body.trim();
  if (t.charCodeAt(0) !== 60 /* < */ || t.charCodeAt(t.length - 1) !== 62 /* > */) return false;
  let j = 1;
  while (j < t.length && isNameChar(t.charCodeAt(j))) j++;
  const name = t.slice(1, j);
  return name !== '' && t.endsWith(`</${name}>`);
}
