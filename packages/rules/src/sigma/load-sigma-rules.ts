import type { Event__Output } from '@mamori/proto';
import { isMamoriError } from '@mamori/common';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { CompiledRule, EventKind, RuleSet, Severity } from '../rule.js';
import { compileDetection, type FieldCache, type KnownFields } from './detection.js';
import { invalid, unsupported } from './errors.js';
import { fieldText } from './field-matcher.js';
import { isSigmaCategory, SIGMA_CATEGORY_KINDS } from './fields.js';

/** A Sigma rule file: where it came from (for messages) and its YAML text. */
export interface SigmaFile {
  path: string;
  text: string;
}

const SEVERITY_OF_LEVEL: Record<string, Severity> = {
  informational: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};
// `level` is optional in Sigma; a rule without one is treated as the middle of the scale.
const DEFAULT_LEVEL = 'medium';

// What the kind of event alone tells about a rule's fields, so that a rule asking for
// `Initiated: 'false'` is offered accepts only.
const KNOWN_BY_KIND: Partial<Record<EventKind, KnownFields>> = {
  network_connect: new Map([['Initiated', fieldText('true')]]),
  network_accept: new Map([['Initiated', fieldText('false')]]),
};
const NOTHING_KNOWN: KnownFields = new Map();

type Path = readonly (string | number)[];

/** A YAML value as a message shows it. */
const shown = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Later documents of a collection override the global one key by key, maps merged deeply. */
function merge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    out[key] = isPlainObject(below) && isPlainObject(value) ? merge(below, value) : value;
  }
  return out;
}

/** The 1-based line of the node (or, for a map entry, the key) at `path`. */
function lineIn(doc: Document, counter: LineCounter, path: Path): number | undefined {
  let node: unknown = doc.contents;
  for (const [i, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (pair === undefined) return undefined;
      if (i === path.length - 1 && isScalar(pair.key) && pair.key.range) {
        return counter.linePos(pair.key.range[0]).line;
      }
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      return undefined;
    }
  }
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range === undefined ? undefined : counter.linePos(range[0]).line;
}

interface Located {
  file: string;
  line: number;
  lineOf: (path: Path) => number | undefined;
}

function createRule(
  rule: Record<string, unknown>,
  where: Located,
  caches: WeakMap<Event__Output, FieldCache>,
): CompiledRule {
  const { title, id, level, tags, logsource, detection, status } = rule;
  if (typeof title !== 'string' || title.trim() === '') throw invalid("the rule has no 'title'");
  if (id !== undefined && typeof id !== 'string') throw invalid("'id' must be a string");
  if (rule.correlation !== undefined) throw unsupported('correlation rules are not supported');
  if (rule.filter !== undefined && detection === undefined) {
    throw unsupported('Sigma filters (rules amending other rules) are not supported');
  }
  if (status === 'unsupported') throw unsupported("the rule's status is 'unsupported'");
  if (!isPlainObject(logsource)) throw invalid("the rule has no 'logsource' map");
  const { product, category, service } = logsource;
  if (product !== 'linux') {
    throw unsupported(
      product === undefined
        ? 'logsource has no product; only linux rules are loaded'
        : `logsource product '${shown(product)}' is not linux`,
    );
  }
  if (service !== undefined) {
    throw unsupported(`logsource service '${shown(service)}' is not one Mamori's events answer`);
  }
  if (typeof category !== 'string' || !isSigmaCategory(category)) {
    throw unsupported(
      category === undefined
        ? 'logsource has no category'
        : `logsource category '${shown(category)}' is not one Mamori's events answer`,
    );
  }
  const priority = level === undefined ? DEFAULT_LEVEL : shown(level);
  const severity = SEVERITY_OF_LEVEL[priority.toLowerCase()];
  if (severity === undefined) throw invalid(`level '${priority}' is not a Sigma level`);
  if (detection === undefined) throw invalid("the rule has no 'detection'");

  const compiled = compileDetection(detection, category, where.lineOf);
  const kinds = SIGMA_CATEGORY_KINDS[category].filter(
    (kind) => compiled.decide(KNOWN_BY_KIND[kind] ?? NOTHING_KNOWN) !== false,
  );
  if (kinds.length === 0) throw unsupported('the condition can never hold on any event kind');
  const kindSet = new Set<string>(kinds);

  const cacheOf = (event: Event__Output): FieldCache => {
    let cache = caches.get(event);
    if (cache === undefined) {
      cache = new Map();
      caches.set(event, cache);
    }
    return cache;
  };
  const details = (event: Event__Output): Record<string, string> => {
    const cache = cacheOf(event);
    const out: Record<string, string> = {};
    for (const field of compiled.fields) {
      // Reading through the detection fills the cache for every field the rule names.
      const value = cache.get(field);
      if (value) out[field] = value.raw;
    }
    return out;
  };
  const fillCache = (event: Event__Output): void => {
    try {
      compiled.readAll(event, cacheOf(event));
    } catch {
      // A malformed event renders with what could be read.
    }
  };
  return {
    id: `sigma:${id ?? title}`,
    name: title,
    source: 'sigma',
    priority,
    severity,
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    kinds,
    file: where.file,
    line: where.line,
    matches(event) {
      if (event.payload === undefined || !kindSet.has(event.payload)) return false;
      // A Sigma file_event is a file created or written: an open counts only for writing.
      if (event.payload === 'file_open' && event.file_open?.write !== true) return false;
      try {
        return compiled.matches(event, cacheOf(event));
      } catch {
        return false;
      }
    },
    render(event) {
      fillCache(event);
      const parts = Object.entries(details(event)).map(([field, value]) => `${field}=${value}`);
      return parts.length === 0 ? title : `${title} (${parts.join(' ')})`;
    },
    details(event) {
      fillCache(event);
      return details(event);
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/**
 * Loads Sigma rules for Linux process, file and network events. Never throws on file content:
 * bad YAML and malformed rules become `problems`, rules Mamori cannot evaluate `skipped`.
 */
export function loadSigmaRules(files: readonly SigmaFile[]): RuleSet {
  const out: RuleSet = { rules: [], skipped: [], problems: [] };
  const firstById = new Map<string, string>();
  // One cache for the whole set: every rule offered the same event reads its fields once.
  const caches = new WeakMap<Event__Output, FieldCache>();

  for (const file of files) {
    const counter = new LineCounter();
    let docs: Document[];
    try {
      docs = [...parseAllDocuments(file.text, { lineCounter: counter, uniqueKeys: true })];
    } catch (err) {
      out.problems.push({ file: file.path, line: 1, message: `unreadable YAML: ${String(err)}` });
      continue;
    }
    let global: { body: Record<string, unknown>; doc: Document } | undefined;
    let previous: Record<string, unknown> | undefined;
    for (const doc of docs) {
      const docLine = lineIn(doc, counter, []) ?? 1;
      const problem = (message: string, line = docLine): void => {
        out.problems.push({ file: file.path, line, message });
      };
      if (doc.errors.length > 0) {
        for (const err of doc.errors)
          problem(firstLine(err.message), err.linePos?.[0].line ?? docLine);
        continue;
      }
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        problem(`unreadable YAML: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      if (value === null || value === undefined) continue;
      if (!isPlainObject(value)) {
        problem('a Sigma rule must be a YAML map');
        continue;
      }
      const { action, ...body } = value;
      let rule: Record<string, unknown>;
      if (action === 'global') {
        global = { body, doc };
        continue;
      } else if (action === 'reset') {
        global = undefined;
        continue;
      } else if (action === 'repeat') {
        if (previous === undefined) {
          problem("'action: repeat' with no rule before it");
          continue;
        }
        rule = merge(previous, body);
      } else if (action === undefined) {
        rule = global === undefined ? body : merge(global.body, body);
      } else {
        problem(`unknown action '${shown(action)}'`);
        continue;
      }
      previous = rule;
      const globalDoc = global?.doc;
      const where: Located = {
        file: file.path,
        line: docLine,
        lineOf: (path) =>
          lineIn(doc, counter, path) ??
          (globalDoc === undefined ? undefined : lineIn(globalDoc, counter, path)),
      };
      const name = typeof rule.title === 'string' ? rule.title : `rule at line ${docLine}`;
      try {
        const compiled = createRule(rule, where, caches);
        const first = firstById.get(compiled.id);
        if (first !== undefined) {
          problem(`duplicate rule id '${compiled.id}' (first defined in ${first}); not loaded`);
          continue;
        }
        firstById.set(compiled.id, `${file.path}:${docLine}`);
        out.rules.push(compiled);
      } catch (err) {
        if (!isMamoriError(err)) {
          problem(
            `rule '${name}': internal error: ${err instanceof Error ? err.message : String(err)}`,
          );
          continue;
        }
        const line = typeof err.context.line === 'number' ? err.context.line : docLine;
        const field = typeof err.context.field === 'string' ? err.context.field : undefined;
        if (err.context.fault === 'unsupported') {
          out.skipped.push({
            rule: name,
            reason: err.message,
            ...(field === undefined ? {} : { field }),
            file: file.path,
            line,
          });
        } else {
          problem(`rule '${name}': ${err.message}`, line);
        }
      }
    }
  }
  return out;
}
