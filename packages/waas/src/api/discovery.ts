import { urlDecode } from '../decode.js';
import { headerEntries, type HttpRequest, splitUrl } from '../request.js';

/** Options of {@link createApiDiscovery}. */
export interface ApiDiscoveryOptions {
  /** Endpoints (path templates) learned at most; later ones are counted in `dropped`. @default 500 */
  maxEndpoints?: number;
  /** Distinct values remembered per parameter for enums. @default 20 */
  maxValues?: number;
  /** Query parameters, or JSON properties of one object, learned at most per endpoint. @default 50 */
  maxNames?: number;
  /** A string parameter with at most this many distinct values becomes an enum. @default 5 */
  enumLimit?: number;
  /** Observations of a parameter needed before it can become an enum. @default 10 */
  enumMinSamples?: number;
  /** Title of the exported document. @default 'Discovered API' */
  title?: string;
}

/** Learns endpoints from observed traffic and exports them as OpenAPI. */
export interface ApiDiscovery {
  /**
   * Learns from one request. Requests answered with a status ≥ 400 are not learned: a 404 is a
   * path that does not exist, a 400 a request the API refused. Never throws.
   */
  observe(request: HttpRequest, status?: number): void;
  /** What was learned, as an OpenAPI 3.0.3 document (a plain JSON-serialisable object). */
  toOpenApi(): Record<string, unknown>;
  /** Requests not learned because the endpoint cap was reached. */
  readonly dropped: number;
}

type Kind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** What values at one place looked like. */
interface Shape {
  seen: number;
  kinds: Set<Kind>;
  /** Format of every string seen, `null` once they disagree. */
  format: string | null | undefined;
  values: Set<string>;
  valuesOverflow: boolean;
  props: Map<string, Shape> | undefined;
  items: Shape | undefined;
}

interface Endpoint {
  template: string;
  pathParams: Map<string, Shape>;
  methods: Map<string, MethodStats>;
}

interface MethodStats {
  seen: number;
  query: Map<string, Shape>;
  body: Shape | undefined;
  statuses: Set<number>;
}

/** The methods an OpenAPI path item can hold; WebDAV and the like are not API operations. */
const METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE']);
/** JSON nesting learned: deeper parts of a body are described as any value. */
const MAX_BODY_DEPTH = 8;
/** Path segments of a learned path: longer paths are not API endpoints worth a template. */
const MAX_SEGMENTS = 16;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER = /^-?\d{1,15}$/;
const NUMBER = /^-?\d{1,15}\.\d{1,15}$/;
const HEX_ID = /^[0-9a-f]{8,}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function newShape(): Shape {
  return {
    seen: 0,
    kinds: new Set(),
    format: undefined,
    values: new Set(),
    valuesOverflow: false,
    props: undefined,
    items: undefined,
  };
}

/** A path segment that names one resource rather than a collection: numbers, UUIDs, hex ids. */
function isIdSegment(segment: string): boolean {
  return (
    /^\d+$/.test(segment) ||
    UUID.test(segment) ||
    (HEX_ID.test(segment) && /\d/.test(segment) && /[a-f]/i.test(segment))
  );
}

/**
 * Learns endpoints, methods, query parameters and JSON body properties from traffic; ids in
 * paths (numbers, UUIDs, hex strings of 8+ characters) become `{id}` parameters. Memory is
 * bounded by the options' caps.
 */
export function createApiDiscovery(options: ApiDiscoveryOptions = {}): ApiDiscovery {
  const maxEndpoints = options.maxEndpoints ?? 500;
  const maxValues = options.maxValues ?? 20;
  const maxNames = options.maxNames ?? 50;
  const enumLimit = options.enumLimit ?? 5;
  const enumMinSamples = options.enumMinSamples ?? 10;
  const endpoints = new Map<string, Endpoint>();
  let dropped = 0;

  function addText(shape: Shape, text: string): void {
    shape.seen++;
    let kind: Kind = 'string';
    let format: string | undefined;
    if (INTEGER.test(text)) kind = 'integer';
    else if (NUMBER.test(text)) kind = 'number';
    else if (text === 'true' || text === 'false') kind = 'boolean';
    else if (UUID.test(text)) format = 'uuid';
    else if (DATE_TIME.test(text)) format = 'date-time';
    shape.kinds.add(kind);
    if (kind === 'string') noteString(shape, text, format);
  }

  function noteString(shape: Shape, text: string, format: string | undefined): void {
    if (shape.format === undefined) shape.format = format ?? null;
    else if (shape.format !== format) shape.format = null;
    if (shape.valuesOverflow) return;
    if (text.length > 64) {
      shape.valuesOverflow = true;
      shape.values.clear();
    } else {
      shape.values.add(text);
      if (shape.values.size > maxValues) {
        shape.valuesOverflow = true;
        shape.values.clear();
      }
    }
  }

  function addJson(shape: Shape, value: unknown, depth: number): void {
    shape.seen++;
    if (depth > MAX_BODY_DEPTH) return;
    if (value === null) shape.kinds.add('null');
    else if (typeof value === 'boolean') shape.kinds.add('boolean');
    else if (typeof value === 'number')
      shape.kinds.add(Number.isInteger(value) ? 'integer' : 'number');
    else if (typeof value === 'string') {
      shape.kinds.add('string');
      noteString(
        shape,
        value,
        UUID.test(value) ? 'uuid' : DATE_TIME.test(value) ? 'date-time' : undefined,
      );
    } else if (Array.isArray(value)) {
      shape.kinds.add('array');
      shape.items ??= newShape();
      for (const item of value.slice(0, 100)) addJson(shape.items, item, depth + 1);
    } else if (typeof value === 'object') {
      shape.kinds.add('object');
      shape.props ??= new Map();
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        let child = shape.props.get(k);
        if (child === undefined) {
          if (shape.props.size >= maxNames) continue;
          shape.props.set(k, (child = newShape()));
        }
        addJson(child, v, depth + 1);
      }
    }
  }

  function observe(request: HttpRequest, status?: number): void {
    if (status !== undefined && status >= 400) return;
    const method = request.method.toUpperCase();
    if (!METHODS.has(method)) return;
    const { path, query } = splitUrl(request.url);
    const raw = path.replace(/^\/+/, '').replace(/\/+$/, '');
    const segments = raw === '' ? [] : raw.split('/');
    if (segments.length > MAX_SEGMENTS) return;
    const ids: string[] = [];
    const template =
      '/' +
      segments
        .map((s) => {
          if (!isIdSegment(s)) return s.replace(/[{}]/g, '');
          const name = ids.length === 0 ? 'id' : `id${ids.length + 1}`;
          ids.push(s);
          return `{${name}}`;
        })
        .join('/');
    let endpoint = endpoints.get(template);
    if (endpoint === undefined) {
      if (endpoints.size >= maxEndpoints) {
        dropped++;
        return;
      }
      endpoint = { template, pathParams: new Map(), methods: new Map() };
      endpoints.set(template, endpoint);
    }
    ids.forEach((value, i) => {
      const name = i === 0 ? 'id' : `id${i + 1}`;
      let shape = endpoint.pathParams.get(name);
      if (shape === undefined) endpoint.pathParams.set(name, (shape = newShape()));
      addText(shape, value);
    });
    let stats = endpoint.methods.get(method);
    if (stats === undefined) {
      stats = { seen: 0, query: new Map(), body: undefined, statuses: new Set() };
      endpoint.methods.set(method, stats);
    }
    stats.seen++;
    if (status !== undefined && stats.statuses.size < 20) stats.statuses.add(status);
    if (query !== '') {
      const seenHere = new Set<string>();
      for (const part of query.split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        const name = urlDecode(eq === -1 ? part : part.slice(0, eq), true);
        if (name === '') continue;
        // A repeated parameter counts once a request; its values each.
        let shape = stats.query.get(name);
        if (shape === undefined) {
          if (stats.query.size >= maxNames) continue;
          stats.query.set(name, (shape = newShape()));
        }
        addText(shape, eq === -1 ? '' : urlDecode(part.slice(eq + 1), true));
        if (seenHere.has(name)) shape.seen--;
        seenHere.add(name);
      }
    }
    const body = request.body;
    if (body === undefined || body === '') return;
    const contentType = headerEntries(request).find(([n]) => n === 'content-type')?.[1] ?? '';
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) return;
    let json: unknown;
    try {
      json = JSON.parse(
        request.bodyEncoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body,
      );
    } catch {
      return;
    }
    stats.body ??= newShape();
    addJson(stats.body, json, 0);
  }

  function toSchema(shape: Shape): Record<string, unknown> {
    const kinds = new Set(shape.kinds);
    const nullable = kinds.delete('null');
    if (kinds.has('integer') && kinds.has('number')) kinds.delete('integer');
    const schema: Record<string, unknown> = {};
    if (kinds.size === 1) {
      const kind = [...kinds][0]!;
      schema['type'] = kind;
      if (kind === 'string') {
        if (typeof shape.format === 'string') schema['format'] = shape.format;
        else if (
          !shape.valuesOverflow &&
          shape.values.size > 0 &&
          shape.values.size <= enumLimit &&
          shape.seen >= enumMinSamples
        ) {
          schema['enum'] = [...shape.values].sort();
        }
      }
      if (kind === 'array')
        schema['items'] = shape.items === undefined ? {} : toSchema(shape.items);
      if (kind === 'object' && shape.props !== undefined) {
        const properties: Record<string, unknown> = {};
        const required: string[] = [];
        for (const [k, child] of [...shape.props].sort(([a], [b]) => a.localeCompare(b))) {
          properties[k] = toSchema(child);
          // Present in every object seen here: arrays count each item, so compare with seen.
          if (child.seen >= shape.seen) required.push(k);
        }
        schema['properties'] = properties;
        if (required.length > 0) schema['required'] = required;
      }
    }
    if (nullable && kinds.size > 0) schema['nullable'] = true;
    return schema;
  }

  return {
    observe(request, status) {
      try {
        observe(request, status);
      } catch {
        // Learning is best effort: a request that cannot be read teaches nothing.
      }
    },
    get dropped() {
      return dropped;
    },
    toOpenApi() {
      const paths: Record<string, unknown> = {};
      for (const endpoint of [...endpoints.values()].sort((a, b) =>
        a.template.localeCompare(b.template),
      )) {
        const item: Record<string, unknown> = {};
        if (endpoint.pathParams.size > 0) {
          item['parameters'] = [...endpoint.pathParams].map(([name, shape]) => ({
            name,
            in: 'path',
            required: true,
            schema: toSchema(shape),
          }));
        }
        for (const [method, stats] of endpoint.methods) {
          const op: Record<string, unknown> = {};
          const parameters = [...stats.query]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, shape]) => ({
              name,
              in: 'query',
              required: shape.seen >= stats.seen,
              schema: toSchema(shape),
            }));
          if (parameters.length > 0) op['parameters'] = parameters;
          if (stats.body !== undefined) {
            op['requestBody'] = {
              required: stats.body.seen >= stats.seen,
              content: { 'application/json': { schema: toSchema(stats.body) } },
            };
          }
          const responses: Record<string, unknown> = {};
          for (const s of [...stats.statuses].sort())
            responses[String(s)] = { description: 'observed' };
          op['responses'] =
            Object.keys(responses).length > 0
              ? responses
              : { default: { description: 'observed' } };
          item[method.toLowerCase()] = op;
        }
        paths[endpoint.template] = item;
      }
      return {
        openapi: '3.0.3',
        info: { title: options.title ?? 'Discovered API', version: '1' },
        paths,
      };
    },
  };
}
