import { ErrorCode, MamoriError } from '@mamori/common';
import { RE2JS } from 're2js';

/** The JSON Schema types an OpenAPI document may name. */
export type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';
const TYPES = new Set<string>([
  'string',
  'integer',
  'number',
  'boolean',
  'array',
  'object',
  'null',
]);

/** A compiled schema: the subset of JSON Schema that request validation checks. */
export interface SchemaNode {
  types: ReadonlySet<SchemaType> | undefined;
  enumValues: readonly unknown[] | undefined;
  minimum: number | undefined;
  maximum: number | undefined;
  exclusiveMinimum: boolean;
  exclusiveMaximum: boolean;
  minLength: number | undefined;
  maxLength: number | undefined;
  pattern: { source: string; test(input: string): boolean } | undefined;
  format: string | undefined;
  items: SchemaNode | undefined;
  minItems: number | undefined;
  maxItems: number | undefined;
  properties: ReadonlyMap<string, SchemaNode> | undefined;
  required: readonly string[];
  /** `false` forbids properties not listed, a node validates them, `undefined` lets anything through. */
  additionalProperties: false | SchemaNode | undefined;
  allOf: readonly SchemaNode[];
  anyOf: readonly SchemaNode[];
}

/**
 * Nesting of a schema inside another (inline or through `$ref`) compiled: deeper documents are
 * generated or hostile, and request bodies nested deeper than this are not validated further.
 */
const MAX_SCHEMA_DEPTH = 32;

/** A location in the document as people write it: `paths["/users/{id}"].get.parameters[0]`. */
export function jsonPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const plain = /^[A-Za-z_$][\w$-]*$/.test(key);
  if (parent === '') return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A bad document: the message names where, `context.field` holds the path. */
export function documentError(path: string, what: string): MamoriError {
  return new MamoriError(ErrorCode.Validation, `${path === '' ? '(document)' : path}: ${what}`, {
    context: { field: path },
  });
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follows local `$ref`s (`#/components/…`) of one document, refusing external and circular ones. */
export class RefResolver {
  readonly #root: Record<string, unknown>;
  constructor(root: Record<string, unknown>) {
    this.#root = root;
  }

  /** The target of `ref` at `path`. @throws MamoriError for an external, missing or circular ref. */
  lookup(ref: unknown, path: string): { value: unknown; path: string } {
    if (typeof ref !== 'string') throw documentError(`${path}.$ref`, 'must be a string');
    if (!ref.startsWith('#/')) {
      throw documentError(`${path}.$ref`, `only local references (#/…) are supported, not ${ref}`);
    }
    let value: unknown = this.#root;
    let at = '';
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObject(value) || !Object.hasOwn(value, key)) {
        throw documentError(`${path}.$ref`, `${ref} does not resolve`);
      }
      value = value[key];
      at = jsonPath(at, key);
    }
    return { value, path: at };
  }

  /** `value` with its chain of `$ref`s followed. */
  deref(value: unknown, path: string): { value: unknown; path: string; ref: string | undefined } {
    let ref: string | undefined;
    const seen = new Set<string>();
    while (isObject(value) && '$ref' in value) {
      const r = value['$ref'];
      if (typeof r === 'string' && seen.has(r)) {
        throw documentError(`${path}.$ref`, `circular reference ${r}`);
      }
      if (typeof r === 'string') seen.add(r);
      ref ??= r as string;
      ({ value, path } = this.lookup(r, path));
    }
    return { value, path, ref };
  }
}

function optNumber(s: Record<string, unknown>, key: string, path: string): number | undefined {
  const v = s[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw documentError(jsonPath(path, key), 'must be a number');
  return v;
}

/** Compiles the schemas of one document; a `$ref` target is compiled once and shared (cycles too). */
export class SchemaCompiler {
  readonly #refs: RefResolver;
  readonly #byRef = new Map<string, SchemaNode>();
  /** Things skipped rather than refused (a pattern RE2 cannot run), with where. */
  readonly problems: string[] = [];

  constructor(refs: RefResolver) {
    this.#refs = refs;
  }

  /** @throws MamoriError naming the path of what is wrong. */
  compile(schema: unknown, path: string, depth = 0): SchemaNode {
    if (depth > MAX_SCHEMA_DEPTH)
      throw documentError(path, `schema nested deeper than ${MAX_SCHEMA_DEPTH}`);
    if (schema === true || (isObject(schema) && Object.keys(schema).length === 0))
      return emptyNode();
    if (isObject(schema) && '$ref' in schema) {
      const ref = schema['$ref'];
      const cached = typeof ref === 'string' ? this.#byRef.get(ref) : undefined;
      if (cached !== undefined) return cached;
      const target = this.#refs.deref(schema, path);
      const node = emptyNode();
      // Registered before its body compiles: a schema that refers to itself gets this node.
      this.#byRef.set(target.ref!, node);
      Object.assign(node, this.compile(target.value, target.path, depth + 1));
      return node;
    }
    if (!isObject(schema)) throw documentError(path, 'a schema must be an object');
    const node = emptyNode();
    const type = schema['type'];
    if (type !== undefined) {
      const list = Array.isArray(type) ? type : [type];
      for (const t of list) {
        if (typeof t !== 'string' || !TYPES.has(t)) {
          throw documentError(jsonPath(path, 'type'), `unknown type ${JSON.stringify(t)}`);
        }
      }
      const types = new Set(list as SchemaType[]);
      if (schema['nullable'] === true) types.add('null');
      node.types = types;
    }
    if (schema['enum'] !== undefined) {
      if (!Array.isArray(schema['enum']))
        throw documentError(jsonPath(path, 'enum'), 'must be an array');
      node.enumValues = schema['enum'] as unknown[];
      if (schema['nullable'] === true) node.enumValues = [...node.enumValues, null];
    }
    if (schema['const'] !== undefined) node.enumValues = [schema['const']];
    node.minimum = optNumber(schema, 'minimum', path);
    node.maximum = optNumber(schema, 'maximum', path);
    // 3.0: exclusiveMinimum is a flag on minimum; 3.1: the bound itself.
    const exMin = schema['exclusiveMinimum'];
    if (typeof exMin === 'number') {
      node.minimum = exMin;
      node.exclusiveMinimum = true;
    } else node.exclusiveMinimum = exMin === true;
    const exMax = schema['exclusiveMaximum'];
    if (typeof exMax === 'number') {
      node.maximum = exMax;
      node.exclusiveMaximum = true;
    } else node.exclusiveMaximum = exMax === true;
    node.minLength = optNumber(schema, 'minLength', path);
    node.maxLength = optNumber(schema, 'maxLength', path);
    node.minItems = optNumber(schema, 'minItems', path);
    node.maxItems = optNumber(schema, 'maxItems', path);
    const pattern = schema['pattern'];
    if (pattern !== undefined) {
      if (typeof pattern !== 'string')
        throw documentError(jsonPath(path, 'pattern'), 'must be a string');
      try {
        const re = RE2JS.compile(pattern);
        node.pattern = { source: pattern, test: (s) => re.matcher(s).find() };
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.problems.push(`${jsonPath(path, 'pattern')}: skipped, RE2 refuses ${pattern}: ${why}`);
      }
    }
    if (typeof schema['format'] === 'string') node.format = schema['format'];
    if (schema['items'] !== undefined) {
      node.items = this.compile(schema['items'], jsonPath(path, 'items'), depth + 1);
    }
    const props = schema['properties'];
    if (props !== undefined) {
      if (!isObject(props)) throw documentError(jsonPath(path, 'properties'), 'must be an object');
      const map = new Map<string, SchemaNode>();
      for (const [k, v] of Object.entries(props)) {
        map.set(k, this.compile(v, jsonPath(jsonPath(path, 'properties'), k), depth + 1));
      }
      node.properties = map;
    }
    const required = schema['required'];
    if (required !== undefined) {
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
        throw documentError(jsonPath(path, 'required'), 'must be a list of property names');
      }
      node.required = required;
    }
    const additional = schema['additionalProperties'];
    if (additional === false) node.additionalProperties = false;
    else if (isObject(additional)) {
      node.additionalProperties = this.compile(
        additional,
        jsonPath(path, 'additionalProperties'),
        depth + 1,
      );
    }
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = schema[key];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw documentError(jsonPath(path, key), 'must be an array');
      const nodes = list.map((s, i) =>
        this.compile(s, jsonPath(jsonPath(path, key), i), depth + 1),
      );
      // oneOf is checked as anyOf: proving that exactly one branch matches costs every branch
      // and tells an attack from a mistake no better.
      if (key === 'allOf') node.allOf = nodes;
      else node.anyOf = nodes;
    }
    return node;
  }
}

function emptyNode(): SchemaNode {
  return {
    types: undefined,
    enumValues: undefined,
    minimum: undefined,
    maximum: undefined,
    exclusiveMinimum: false,
    exclusiveMaximum: false,
    minLength: undefined,
    maxLength: undefined,
    pattern: undefined,
    format: undefined,
    items: undefined,
    minItems: undefined,
    maxItems: undefined,
    properties: undefined,
    required: [],
    additionalProperties: undefined,
    allOf: [],
    anyOf: [],
  };
}

/** One way a value breaks its schema. */
export interface Violation {
  /** Where, as in `Finding.location` (`query.limit`, `body.pets[0].name`). */
  location: string;
  message: string;
  value: unknown;
}

function typeOf(value: unknown): SchemaType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as SchemaType;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// Anchored, no nested quantifiers: linear in the input.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(?:\.[^\s@.]+)+$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `value` has `format`; formats not known here pass (as JSON Schema says they may). */
function checkFormat(format: string, value: string): boolean {
  switch (format) {
    case 'uuid':
      return UUID.test(value);
    case 'date-time':
      return value.length <= 40 && DATE_TIME.test(value);
    case 'date':
      return DATE.test(value);
    case 'email':
      return value.length <= 254 && EMAIL.test(value);
    case 'ipv4':
      return IPV4.test(value);
    default:
      return true;
  }
}

function describeType(node: SchemaNode): string {
  return node.types === undefined ? 'value' : [...node.types].join(' or ');
}

/**
 * Checks `value` against `node`, pushing what is wrong to `out` (at most `limit` entries).
 * Linear in the value; stops descending at MAX_SCHEMA_DEPTH.
 */
export function validateValue(
  node: SchemaNode,
  value: unknown,
  location: string,
  out: Violation[],
  limit: number,
  depth = 0,
): void {
  if (out.length >= limit || depth > MAX_SCHEMA_DEPTH) return;
  const fail = (message: string): void => void out.push({ location, message, value });
  const t = typeOf(value);
  if (node.types !== undefined) {
    const ok = node.types.has(t) || (t === 'integer' && node.types.has('number'));
    if (!ok) return fail(`expected ${describeType(node)}`);
  }
  if (node.enumValues !== undefined && !node.enumValues.some((e) => e === value)) {
    const shown = node.enumValues
      .slice(0, 10)
      .map((e) => JSON.stringify(e))
      .join(', ');
    return fail(`expected one of ${shown}`);
  }
  if (typeof value === 'number') {
    const kind = t === 'integer' && node.types?.has('integer') === true ? 'integer' : 'number';
    if (
      node.minimum !== undefined &&
      (node.exclusiveMinimum ? value <= node.minimum : value < node.minimum)
    ) {
      return fail(`expected ${kind} ${node.exclusiveMinimum ? '>' : '≥'} ${node.minimum}`);
    }
    if (
      node.maximum !== undefined &&
      (node.exclusiveMaximum ? value >= node.maximum : value > node.maximum)
    ) {
      return fail(`expected ${kind} ${node.exclusiveMaximum ? '<' : '≤'} ${node.maximum}`);
    }
  } else if (typeof value === 'string') {
    if (node.minLength !== undefined && value.length < node.minLength) {
      return fail(`expected at least ${node.minLength} characters`);
    }
    if (node.maxLength !== undefined && value.length > node.maxLength) {
      return fail(`expected at most ${node.maxLength} characters`);
    }
    if (node.format !== undefined && !checkFormat(node.format, value))
      return fail(`expected ${node.format}`);
    if (node.pattern !== undefined && !node.pattern.test(value)) {
      return fail(`does not match ${node.pattern.source}`);
    }
  } else if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems)
      return fail(`expected at least ${node.minItems} items`);
    if (node.maxItems !== undefined && value.length > node.maxItems)
      return fail(`expected at most ${node.maxItems} items`);
    if (node.items !== undefined) {
      for (let i = 0; i < value.length && out.length < limit; i++) {
        validateValue(node.items, value[i], `${location}[${i}]`, out, limit, depth + 1);
      }
    }
  } else if (isObject(value)) {
    for (const name of node.required) {
      if (!Object.hasOwn(value, name)) {
        out.push({
          location: `${location}.${name}`,
          message: 'required property missing',
          value: undefined,
        });
      }
    }
    for (const [k, v] of Object.entries(value)) {
      if (out.length >= limit) break;
      const child = node.properties?.get(k);
      const at = `${location}.${k}`;
      if (child !== undefined) validateValue(child, v, at, out, limit, depth + 1);
      else if (node.additionalProperties === false) {
        out.push({ location: at, message: 'property not allowed', value: v });
      } else if (node.additionalProperties !== undefined) {
        validateValue(node.additionalProperties, v, at, out, limit, depth + 1);
      }
    }
  }
  for (const sub of node.allOf) validateValue(sub, value, location, out, limit, depth + 1);
  if (node.anyOf.length > 0) {
    const passes = node.anyOf.some((sub) => {
      const probe: Violation[] = [];
      validateValue(sub, value, location, probe, 1, depth + 1);
      return probe.length === 0;
    });
    if (!passes) fail('matches none of the allowed schemas');
  }
}
