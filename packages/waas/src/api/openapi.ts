import { parse as parseYaml } from 'yaml';
import { urlDecode } from '../decode.js';
import { DEFAULT_BODY_LIMIT, headerEntries, type HttpRequest, splitUrl } from '../request.js';
import type { Finding } from '../types.js';
import {
  documentError,
  isObject,
  jsonPath,
  RefResolver,
  SchemaCompiler,
  type SchemaNode,
  validateValue,
  type Violation,
} from './schema.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const LOCATIONS = new Set(['path', 'query', 'header', 'cookie']);

/** Options of {@link createApiSchema}. */
export interface ApiSchemaOptions {
  /** Bytes of a JSON body parsed and validated; longer bodies are not validated. @default 131072 (128 KiB) */
  bodyLimit?: number;
  /** Findings reported for one request at most: one broken request must not cost more. @default 20 */
  maxFindings?: number;
  /** Confidence of each finding (it scales the `api-schema` weight). @default 1 */
  confidence?: number;
}

/** An OpenAPI document compiled for validating requests. */
export interface ApiSchema {
  /** What does not conform in `request`: unknown path or method, bad parameters or body. Never throws. */
  validate(request: HttpRequest): Finding[];
  /** What of the document was skipped rather than refused (patterns RE2 cannot run), with where. */
  readonly problems: readonly string[];
  /** The operations, as `METHOD /template`, in document order. */
  readonly operations: readonly string[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: SchemaNode | undefined;
}

interface Operation {
  template: string;
  method: string;
  parameters: Parameter[];
  body:
    { required: boolean; media: { type: string; schema: SchemaNode | undefined }[] } | undefined;
}

type SegmentMatcher =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; prefix: string; suffix: string; name: string };

interface PathNode {
  literals: Map<string, PathNode>;
  params: { matcher: Extract<SegmentMatcher, { kind: 'param' }>; node: PathNode }[];
  /** Operations by upper-case method, when a template ends here. */
  item: { template: string; operations: Map<string, Operation> } | undefined;
}

function newNode(): PathNode {
  return { literals: new Map(), params: [], item: undefined };
}

/** The parsed document from JSON or YAML text, or the object itself. */
function parseDocument(document: unknown): Record<string, unknown> {
  let doc = document;
  if (typeof document === 'string') {
    const text = document.trimStart();
    try {
      doc = text.startsWith('{') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
    } catch (err) {
      throw documentError(
        '',
        `not JSON or YAML: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (!isObject(doc)) throw documentError('', 'an OpenAPI document must be an object');
  const version = doc['openapi'];
  if (typeof version !== 'string' || !/^3\.[01]\./.test(version)) {
    throw documentError('openapi', `must be "3.0.x" or "3.1.x", not ${JSON.stringify(version)}`);
  }
  if (!isObject(doc['paths'])) throw documentError('paths', 'must be an object');
  return doc;
}

/** The path parts of `servers[].url` (`https://api.example.com/v1` → `/v1`), variables at their defaults. */
function basePaths(doc: Record<string, unknown>): string[] {
  const servers = doc['servers'];
  if (servers === undefined) return [''];
  if (!Array.isArray(servers)) throw documentError('servers', 'must be an array');
  const out = new Set<string>();
  servers.forEach((s, i) => {
    const at = jsonPath('servers', i);
    if (!isObject(s) || typeof s['url'] !== 'string')
      throw documentError(`${at}.url`, 'must be a string');
    let url = s['url'];
    const vars = isObject(s['variables']) ? s['variables'] : {};
    url = url.replace(/\{([^}]*)\}/g, (_, name: string) => {
      const v = vars[name];
      if (!isObject(v) || typeof v['default'] !== 'string') {
        throw documentError(`${at}.variables.${name}.default`, 'must be a string');
      }
      return v['default'];
    });
    const scheme = url.indexOf('://');
    if (scheme !== -1) {
      const slash = url.indexOf('/', scheme + 3);
      url = slash === -1 ? '' : url.slice(slash);
    }
    out.add(url.replace(/\/+$/, ''));
  });
  if (out.size === 0) out.add('');
  // Longest first: `/v1/admin` before `/v1`.
  return [...out].sort((a, b) => b.length - a.length);
}

function segmentMatcher(segment: string, at: string): SegmentMatcher {
  const open = segment.indexOf('{');
  if (open === -1) return { kind: 'literal', text: segment };
  const close = segment.indexOf('}', open);
  if (close === -1 || segment.indexOf('{', close) !== -1) {
    throw documentError(at, `segment ${segment}: one {parameter} a segment is supported`);
  }
  return {
    kind: 'param',
    prefix: segment.slice(0, open),
    name: segment.slice(open + 1, close),
    suffix: segment.slice(close + 1),
  };
}

function splitSegments(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

function safeDecode(segment: string): string {
  return segment.indexOf('%') === -1 ? segment : urlDecode(segment);
}

/**
 * Compiles an OpenAPI 3.0 or 3.1 document (JSON or YAML text, or the parsed object) for
 * validating requests: path templates under the servers' base paths, methods, parameters
 * (path, query, header, cookie) and JSON request bodies, with local `$ref`s.
 * @throws MamoriError (MAMORI_VALIDATION) naming the JSON path of what is wrong in the document.
 */
export function createApiSchema(document: unknown, options: ApiSchemaOptions = {}): ApiSchema {
  const doc = parseDocument(document);
  const refs = new RefResolver(doc);
  const compiler = new SchemaCompiler(refs);
  const bases = basePaths(doc);
  const root = newNode();
  const operations: string[] = [];
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const maxFindings = options.maxFindings ?? 20;
  const confidence = options.confidence ?? 1;

  function compileParameters(list: unknown, at: string): Parameter[] {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw documentError(at, 'must be an array');
    return list.map((raw, i) => {
      const { value: p, path } = refs.deref(raw, jsonPath(at, i));
      if (!isObject(p)) throw documentError(path, 'a parameter must be an object');
      if (typeof p['name'] !== 'string' || p['name'] === '')
        throw documentError(`${path}.name`, 'must be a non-empty string');
      const where = p['in'];
      if (typeof where !== 'string' || !LOCATIONS.has(where)) {
        throw documentError(`${path}.in`, 'must be path, query, header or cookie');
      }
      let schema: SchemaNode | undefined;
      if (p['schema'] !== undefined) schema = compiler.compile(p['schema'], `${path}.schema`);
      else if (isObject(p['content'])) {
        const first = Object.entries(p['content'])[0];
        if (first !== undefined && isObject(first[1]) && first[1]['schema'] !== undefined) {
          schema = compiler.compile(
            first[1]['schema'],
            jsonPath(jsonPath(`${path}.content`, first[0]), 'schema'),
          );
        }
      }
      return {
        name: where === 'header' ? p['name'].toLowerCase() : p['name'],
        in: where as Parameter['in'],
        required: p['required'] === true || where === 'path',
        schema,
      };
    });
  }

  function compileBody(raw: unknown, at: string): Operation['body'] {
    if (raw === undefined) return undefined;
    const { value: b, path } = refs.deref(raw, at);
    if (!isObject(b)) throw documentError(path, 'must be an object');
    const content = b['content'];
    if (!isObject(content)) throw documentError(`${path}.content`, 'must be an object');
    const media = Object.entries(content).map(([type, m]) => {
      const mAt = jsonPath(`${path}.content`, type);
      if (!isObject(m)) throw documentError(mAt, 'must be an object');
      return {
        type: type.toLowerCase(),
        schema:
          m['schema'] === undefined ? undefined : compiler.compile(m['schema'], `${mAt}.schema`),
      };
    });
    return { required: b['required'] === true, media };
  }

  for (const [template, rawItem] of Object.entries(doc['paths'] as Record<string, unknown>)) {
    const at = jsonPath('paths', template);
    if (!template.startsWith('/')) throw documentError(at, 'a path must start with /');
    const { value: item, path: itemAt } = refs.deref(rawItem, at);
    if (!isObject(item)) throw documentError(itemAt, 'a path item must be an object');
    let node = root;
    for (const segment of splitSegments(template)) {
      const m = segmentMatcher(segment, at);
      if (m.kind === 'literal') {
        let next = node.literals.get(m.text);
        if (next === undefined) node.literals.set(m.text, (next = newNode()));
        node = next;
      } else {
        let entry = node.params.find(
          (p) => p.matcher.prefix === m.prefix && p.matcher.suffix === m.suffix,
        );
        if (entry === undefined) node.params.push((entry = { matcher: m, node: newNode() }));
        node = entry.node;
      }
    }
    node.item ??= { template, operations: new Map() };
    const shared = compileParameters(item['parameters'], `${itemAt}.parameters`);
    for (const method of METHODS) {
      const rawOp = item[method];
      if (rawOp === undefined) continue;
      const opAt = `${itemAt}.${method}`;
      if (!isObject(rawOp)) throw documentError(opAt, 'an operation must be an object');
      const own = compileParameters(rawOp['parameters'], `${opAt}.parameters`);
      // An operation's parameter overrides the path item's of the same name and place.
      const parameters = [
        ...shared.filter((s) => !own.some((o) => o.in === s.in && o.name === s.name)),
        ...own,
      ];
      node.item.operations.set(method.toUpperCase(), {
        template,
        method: method.toUpperCase(),
        parameters,
        body: compileBody(rawOp['requestBody'], `${opAt}.requestBody`),
      });
      operations.push(`${method.toUpperCase()} ${template}`);
    }
  }

  function match(
    node: PathNode,
    segments: readonly string[],
    i: number,
    params: Map<string, string>,
  ): PathNode | undefined {
    if (i === segments.length) return node.item === undefined ? undefined : node;
    const segment = segments[i]!;
    const literal = node.literals.get(segment);
    // A literal segment wins over a template one (`/users/me` before `/users/{id}`).
    if (literal !== undefined) {
      const found = match(literal, segments, i + 1, params);
      if (found !== undefined) return found;
    }
    for (const { matcher, node: next } of node.params) {
      const { prefix, suffix } = matcher;
      if (segment.length <= prefix.length + suffix.length) continue;
      if (!segment.startsWith(prefix) || !segment.endsWith(suffix)) continue;
      const found = match(next, segments, i + 1, params);
      if (found !== undefined) {
        params.set(matcher.name, segment.slice(prefix.length, segment.length - suffix.length));
        return found;
      }
    }
    return undefined;
  }

  function finding(location: string, reason: string, evidence: unknown): Finding {
    const text =
      evidence === undefined
        ? ''
        : typeof evidence === 'string'
          ? evidence
          : JSON.stringify(evidence);
    return {
      category: 'api-schema',
      location,
      evidence: text.length > 200 ? text.slice(0, 200) : text,
      confidence,
      reason,
    };
  }

  return {
    problems: compiler.problems,
    operations,
    validate(request: HttpRequest): Finding[] {
      const { path: rawPath, query } = splitUrl(request.url);
      const base = bases.find((b) => b === '' || rawPath === b || rawPath.startsWith(`${b}/`));
      const segments =
        base === undefined ? undefined : splitSegments(rawPath.slice(base.length)).map(safeDecode);
      const params = new Map<string, string>();
      const node = segments === undefined ? undefined : match(root, segments, 0, params);
      if (node?.item === undefined) return [finding('path', 'unknown path', rawPath)];
      const method = request.method.toUpperCase();
      // HEAD is GET without a body; OPTIONS is a CORS preflight the server answers itself.
      const op =
        node.item.operations.get(method) ??
        (method === 'HEAD' ? node.item.operations.get('GET') : undefined);
      if (op === undefined) {
        if (method === 'OPTIONS') return [];
        return [finding('path', `method ${method} not allowed on ${node.item.template}`, method)];
      }
      const violations: Violation[] = [];
      const queryValues = new Map<string, string[]>();
      if (query !== '') {
        for (const part of query.split('&')) {
          if (part === '') continue;
          const eq = part.indexOf('=');
          const name = urlDecode(eq === -1 ? part : part.slice(0, eq), true);
          const value = eq === -1 ? '' : urlDecode(part.slice(eq + 1), true);
          const list = queryValues.get(name);
          if (list === undefined) queryValues.set(name, [value]);
          else list.push(value);
        }
      }
      const headers = new Map<string, string[]>();
      const cookies = new Map<string, string[]>();
      let contentType = '';
      for (const [name, value] of headerEntries(request)) {
        if (name === 'content-type') contentType = value;
        if (name === 'cookie') {
          for (const part of value.split(';')) {
            const eq = part.indexOf('=');
            if (eq === -1) continue;
            const k = part.slice(0, eq).trim();
            cookies.set(k, [...(cookies.get(k) ?? []), part.slice(eq + 1).trim()]);
          }
        }
        headers.set(name, [...(headers.get(name) ?? []), value]);
      }
      for (const p of op.parameters) {
        const location = `${p.in}.${p.name}`;
        const values =
          p.in === 'path'
            ? params.has(p.name)
              ? [params.get(p.name)!]
              : undefined
            : (p.in === 'query' ? queryValues : p.in === 'header' ? headers : cookies).get(p.name);
        if (values === undefined) {
          if (p.required)
            violations.push({ location, message: 'required parameter missing', value: undefined });
          continue;
        }
        if (p.schema !== undefined) {
          validateValue(p.schema, coerce(p.schema, values), location, violations, maxFindings);
        }
      }
      if (op.body !== undefined) validateBody(op.body, request, contentType, violations);
      return violations
        .slice(0, maxFindings)
        .map((v) => finding(v.location, `${v.location}: ${v.message}`, v.value));
    },
  };

  function validateBody(
    body: NonNullable<Operation['body']>,
    request: HttpRequest,
    contentType: string,
    out: Violation[],
  ): void {
    const raw = request.body ?? '';
    if (raw === '') {
      if (body.required)
        out.push({ location: 'body', message: 'required body missing', value: undefined });
      return;
    }
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const media =
      body.media.find((m) => m.type === type) ??
      body.media.find((m) => m.type.endsWith('/*') && type.startsWith(m.type.slice(0, -1))) ??
      body.media.find((m) => m.type === '*/*');
    if (media === undefined) {
      out.push({
        location: 'body',
        message: `content type ${type || '(none)'} not accepted`,
        value: type,
      });
      return;
    }
    const isJson = type === 'application/json' || type.endsWith('+json');
    if (media.schema === undefined || !isJson) return;
    const text =
      request.bodyEncoding === 'base64' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    // Validating a body costs its length: beyond the limit the detectors' own limit applies.
    if (text.length > bodyLimit) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      out.push({ location: 'body', message: 'not valid JSON', value: text });
      return;
    }
    validateValue(media.schema, json, 'body', out, maxFindings);
  }
}

/** Parameter text as the type its schema expects, so `limit=10` checks as the integer 10. */
function coerce(schema: SchemaNode, values: readonly string[]): unknown {
  if (schema.types?.has('array') === true) {
    const parts = values.length === 1 ? values[0]!.split(',') : values;
    return schema.items === undefined ? parts : parts.map((p) => coerceOne(schema.items!, p));
  }
  return coerceOne(schema, values[0]!);
}

function coerceOne(schema: SchemaNode, text: string): unknown {
  const types = schema.types;
  if (types === undefined || types.has('string')) return text;
  if (
    (types.has('integer') || types.has('number')) &&
    /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)
  ) {
    return Number(text);
  }
  if (types.has('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (types.has('null') && text === '') return null;
  return text;
}
