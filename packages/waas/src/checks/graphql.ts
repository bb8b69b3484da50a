import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/**
 * GraphQL requests that map an API or strain it (category `protocol`: they alert, and block only
 * with other evidence or a policy that weighs `protocol` higher). Introspection (`__schema`,
 * `__type`) is how clients and attackers alike learn a schema: public APIs and developer tools
 * use it, which is why it is not blocked by default, but production APIs usually turn it off and
 * a request for it there is reconnaissance. Selection sets nested deeper than any real query
 * (`MAX_DEPTH`) are the shape of a resource-exhaustion query on cyclic types. A GraphQL document
 * is looked for where GraphQL over HTTP puts it: a `query` parameter or JSON field, or a whole
 * `application/graphql` body.
 */

/** Nesting of selection sets beyond which a query is reported: real queries stay well under 10. */
const MAX_DEPTH = 15;
/** Characters of a document read: the depth and introspection signs are near its start. */
const MAX_SCAN = 64 * 1024;

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; /* _ */
}

/** Whether a value is where GraphQL over HTTP carries a document. */
function isGraphqlDocument(value: InspectedValue): boolean {
  if (value.name === 'query') return value.kind !== 'json-key' && value.kind !== 'header';
  if (value.location !== 'body') return false;
  const head = value.value.trimStart().slice(0, 12);
  return (
    head.startsWith('{') ||
    head.startsWith('query') ||
    head.startsWith('mutation') ||
    head.startsWith('subscription') ||
    head.startsWith('fragment')
  );
}

/**
 * The document inside a GraphQL-over-HTTP JSON request (`{"query":"…"}`) that reached a `query`
 * parameter whole (a client that URL-encoded its JSON body into the URL); the value otherwise.
 */
function unwrapJson(text: string): string {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{"')) return text;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'object' && parsed !== null && 'query' in parsed) {
      const query = parsed.query;
      if (typeof query === 'string') return query;
    }
  } catch {
    // Not JSON: read as a document.
  }
  return text;
}

/** GraphQL introspection and over-deep queries; see the module comment. */
export const graphqlCheck: Detector = {
  name: 'graphql',
  categories: ['protocol'],
  inspect(value: InspectedValue): Finding[] {
    // Names first: most values are neither a `query` nor a whole body.
    if (value.name !== 'query' && value.location !== 'body') return [];
    if (value.value.indexOf('{') === -1 || !isGraphqlDocument(value)) return [];
    const text = unwrapJson(value.value);
    const n = Math.min(text.length, MAX_SCAN);
    let depth = 0;
    let deepest = 0;
    let introspection = '';
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 34 /* " */) {
        // A string argument: braces in it are no selection sets.
        i++;
        while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      } else if (c === 35 /* # */) {
        while (i < n && text.charCodeAt(i) !== 10) i++;
      } else if (c === 123 /* { */) {
        depth++;
        if (depth > deepest) deepest = depth;
      } else if (c === 125 /* } */) {
        if (depth > 0) depth--;
      } else if (
        c === 95 &&
        introspection === '' &&
        text.charCodeAt(i + 1) === 95 &&
        (i === 0 || !isNameChar(text.charCodeAt(i - 1)))
      ) {
        let j = i + 2;
        while (j < n && isNameChar(text.charCodeAt(j))) j++;
        const name = text.slice(i, j);
        if (name === '__schema' || name === '__type') introspection = name;
        i = j - 1;
      }
    }
    const out: Finding[] = [];
    if (introspection !== '') {
      out.push(
        finding(
          value,
          'protocol',
          1,
          `GraphQL introspection (${introspection}): the schema asked for`,
          text.slice(0, 200),
        ),
      );
    }
    if (deepest > MAX_DEPTH) {
      out.push(
        finding(
          value,
          'protocol',
          1,
          `GraphQL query nested ${deepest} selection sets deep`,
          text.slice(0, 200),
        ),
      );
    }
    return out;
  },
};
