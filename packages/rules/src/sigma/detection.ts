import type { Event__Output } from '@mamori/proto';
import { isMamoriError } from '@mamori/common';
import { parseCondition, type ConditionNode } from './condition.js';
import { invalid, sigmaError, unsupported } from './errors.js';
import {
  compileFieldMatcher,
  fieldText,
  type FieldMatcher,
  type FieldText,
} from './field-matcher.js';
import { resolveField, type FieldGetter, type SigmaCategory } from './fields.js';
import { compilePattern, parseSigmaPattern } from './wildcard.js';

/** Field values already read from one event, shared by every rule evaluated on it. */
export type FieldCache = Map<string, FieldText | null>;

/** Field values known before any event arrives (from the event kind alone). */
export type KnownFields = ReadonlyMap<string, FieldText | undefined>;

interface Node {
  run: (event: Event__Output, cache: FieldCache) => boolean;
  /** True or false when `known` decides it, undefined when other fields would. */
  partial: (known: KnownFields) => boolean | undefined;
}

/** A detection section compiled into one predicate. */
export interface CompiledDetection {
  readonly matches: (event: Event__Output, cache: FieldCache) => boolean;
  /** What the condition is when only `known` fields are known; undefined when undecided. */
  readonly decide: (known: KnownFields) => boolean | undefined;
  /** Reads every field the detection names into `cache` (for output, after a match). */
  readonly readAll: (event: Event__Output, cache: FieldCache) => void;
  /** The Sigma fields the detection reads, in order of first mention. */
  readonly fields: readonly string[];
}

// Keywords are full-text searches in Sigma; the text of a Mamori process event is its command line.
const KEYWORD_FIELD = 'CommandLine';

function read(event: Event__Output, cache: FieldCache, field: string, getter: FieldGetter) {
  let value = cache.get(field);
  if (value === undefined) {
    const raw = getter(event);
    value = raw === undefined ? null : fieldText(raw);
    cache.set(field, value);
  }
  return value ?? undefined;
}

function itemNode(field: string, getter: FieldGetter, matcher: FieldMatcher): Node {
  return {
    run: (event, cache) => matcher(read(event, cache, field, getter)),
    partial: (known) => (known.has(field) ? matcher(known.get(field)) : undefined),
  };
}

function andNode(nodes: readonly Node[]): Node {
  if (nodes.length === 1 && nodes[0] !== undefined) return nodes[0];
  return {
    run: (event, cache) => {
      for (const node of nodes) if (!node.run(event, cache)) return false;
      return true;
    },
    partial: (known) => {
      let result: boolean | undefined = true;
      for (const node of nodes) {
        const value = node.partial(known);
        if (value === false) return false;
        if (value === undefined) result = undefined;
      }
      return result;
    },
  };
}

function countNode(nodes: readonly Node[], needed: number): Node {
  if (needed === 1) {
    if (nodes.length === 1 && nodes[0] !== undefined) return nodes[0];
    return {
      run: (event, cache) => {
        for (const node of nodes) if (node.run(event, cache)) return true;
        return false;
      },
      partial: (known) => {
        let result: boolean | undefined = false;
        for (const node of nodes) {
          const value = node.partial(known);
          if (value === true) return true;
          if (value === undefined) result = undefined;
        }
        return result;
      },
    };
  }
  if (needed === nodes.length) return andNode(nodes);
  return {
    run: (event, cache) => {
      let count = 0;
      for (const node of nodes) if (node.run(event, cache) && ++count >= needed) return true;
      return false;
    },
    partial: (known) => {
      let yes = 0;
      let maybe = 0;
      for (const node of nodes) {
        const value = node.partial(known);
        if (value === true) yes++;
        else if (value === undefined) maybe++;
      }
      return yes >= needed ? true : yes + maybe < needed ? false : undefined;
    },
  };
}

function notNode(node: Node): Node {
  return {
    run: (event, cache) => !node.run(event, cache),
    partial: (known) => {
      const value = node.partial(known);
      return value === undefined ? undefined : !value;
    },
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface Context {
  category: SigmaCategory;
  fields: string[];
  getters: Map<string, FieldGetter>;
  lineOf: (path: readonly (string | number)[]) => number | undefined;
}

function resolve(ctx: Context, field: string): FieldGetter {
  const resolved = resolveField(ctx.category, field);
  if ('reason' in resolved) throw unsupported(resolved.reason, field);
  if (!ctx.getters.has(field)) {
    ctx.fields.push(field);
    ctx.getters.set(field, resolved.getter);
  }
  return resolved.getter;
}

/** With the line of the item at fault, which the compilers of values cannot know. */
function located<T>(ctx: Context, path: readonly (string | number)[], compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    if (!isMamoriError(err) || err.context.line !== undefined) throw err;
    const fault = err.context.fault === 'unsupported' ? 'unsupported' : 'invalid';
    const field = typeof err.context.field === 'string' ? err.context.field : undefined;
    const line = ctx.lineOf(path);
    throw sigmaError(fault, err.message, {
      ...(field === undefined ? {} : { field }),
      ...(line === undefined ? {} : { line }),
    });
  }
}

function compileKeywords(ctx: Context, values: unknown[]): Node {
  const getter = resolve(ctx, KEYWORD_FIELD);
  return itemNode(KEYWORD_FIELD, getter, compileFieldMatcher(KEYWORD_FIELD, ['contains'], values));
}

function compileMap(ctx: Context, path: (string | number)[], map: Record<string, unknown>): Node {
  const entries = Object.entries(map);
  if (entries.length === 0) throw invalid('a selection must not be empty');
  return andNode(
    entries.map(([key, value]) =>
      located(ctx, [...path, key], () => {
        const [name = '', ...modifiers] = key.split('|');
        if (name === '') {
          // `'|all': [...]`: keywords that take modifiers.
          const getter = resolve(ctx, KEYWORD_FIELD);
          const hasMatch = modifiers.some((m) =>
            ['contains', 'startswith', 'endswith', 're', 'cidr', 'exists'].includes(
              m.toLowerCase(),
            ),
          );
          const mods = hasMatch ? modifiers : ['contains', ...modifiers];
          return itemNode(KEYWORD_FIELD, getter, compileFieldMatcher(KEYWORD_FIELD, mods, value));
        }
        const getter = resolve(ctx, name);
        return itemNode(name, getter, compileFieldMatcher(name, modifiers, value));
      }),
    ),
  );
}

function compileSelection(ctx: Context, name: string, value: unknown): Node {
  const path = ['detection', name];
  return located(ctx, path, () => {
    if (isPlainObject(value)) return compileMap(ctx, path, value);
    if (Array.isArray(value)) {
      if (value.length === 0) throw invalid(`selection '${name}' is an empty list`);
      if (value.every(isPlainObject)) {
        return countNode(
          value.map((map, i) => compileMap(ctx, [...path, i], map)),
          1,
        );
      }
      if (value.some((v) => isPlainObject(v) || Array.isArray(v))) {
        throw invalid(`selection '${name}' mixes field maps with keywords`);
      }
      return compileKeywords(ctx, value);
    }
    if (typeof value === 'string' || typeof value === 'number')
      return compileKeywords(ctx, [value]);
    throw invalid(`selection '${name}' must be a map, a list or a keyword`);
  });
}

function selectionsNamed(target: string, names: readonly string[]): string[] {
  // `them` leaves out selections whose names start with `_` (the Sigma specification).
  if (target === 'them') return names.filter((n) => !n.startsWith('_'));
  if (!target.includes('*') && !target.includes('?')) return names.filter((n) => n === target);
  const matches = compilePattern(parseSigmaPattern(target, true));
  return names.filter((n) => matches(n));
}

function compileCondition(tree: ConditionNode, selections: ReadonlyMap<string, Node>): Node {
  switch (tree.type) {
    case 'ref': {
      const node = selections.get(tree.name);
      if (node === undefined) throw invalid(`condition names unknown selection '${tree.name}'`);
      return node;
    }
    case 'not':
      return notNode(compileCondition(tree.operand, selections));
    case 'and':
      return andNode(tree.operands.map((o) => compileCondition(o, selections)));
    case 'or':
      return countNode(
        tree.operands.map((o) => compileCondition(o, selections)),
        1,
      );
    case 'of': {
      const names = selectionsNamed(tree.target, [...selections.keys()]);
      if (names.length === 0) throw invalid(`condition: no selection matches '${tree.target}'`);
      const nodes = names.map((n) => selections.get(n)).filter((n) => n !== undefined);
      const needed = tree.quantity === 'all' ? nodes.length : tree.quantity;
      if (needed > nodes.length) {
        throw invalid(
          `condition: ${needed} of '${tree.target}' but only ${nodes.length} selections match`,
        );
      }
      return countNode(nodes, needed);
    }
  }
}

/**
 * Compiles a rule's `detection` for `category`.
 * @throws MamoriError (`MAMORI_RULE_SYNTAX`) with `fault` `invalid` (a mistake in the rule) or
 *   `unsupported` (a field, modifier or construct Mamori cannot evaluate), and `field`/`line`.
 */
export function compileDetection(
  detection: unknown,
  category: SigmaCategory,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): CompiledDetection {
  if (!isPlainObject(detection)) throw invalid("'detection' must be a map");
  const ctx: Context = { category, fields: [], getters: new Map(), lineOf };
  const { condition, timeframe, ...rest } = detection;
  if (timeframe !== undefined)
    throw unsupported("'timeframe' (correlation over time) is not supported");
  const selections = new Map<string, Node>();
  for (const [name, value] of Object.entries(rest))
    selections.set(name, compileSelection(ctx, name, value));

  const root = located(ctx, ['detection', 'condition'], () => {
    const conditions = Array.isArray(condition) ? (condition as unknown[]) : [condition];
    if (condition === undefined || conditions.length === 0)
      throw invalid("'detection' has no 'condition'");
    return countNode(
      conditions.map((text) => {
        if (typeof text !== 'string') throw invalid("'condition' must be a string");
        return compileCondition(parseCondition(text), selections);
      }),
      1,
    );
  });
  const getters = [...ctx.getters];
  return {
    matches: root.run,
    decide: root.partial,
    readAll: (event, cache) => {
      for (const [field, getter] of getters) read(event, cache, field, getter);
    },
    fields: ctx.fields,
  };
}
