import type { Event__Output } from '@mamori/proto';
import type { EventKind } from '../rule.js';
import {
  BINARY_OPERATORS,
  LIST_OPERATORS,
  type BinaryOperator,
  type ConditionNode,
  type Literal,
} from './ast.js';
import { CompileError, compileCondition, type CompileScope, type Matcher } from './compiler.js';
import { createFieldResolver } from './fields.js';
import { parseFieldExpression } from './parser.js';

/** A Falco exception as a rule file writes it (`fields`, `comps`, `values`), not yet checked. */
export interface ExceptionDef {
  name: string;
  fields: unknown;
  comps: unknown;
  values: unknown[];
}

function isBinaryOperator(op: unknown): op is BinaryOperator {
  return typeof op === 'string' && (BINARY_OPERATORS as readonly string[]).includes(op);
}

function scalarText(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new CompileError(`${where}: values must be text or numbers`, 'exceptions');
}

function exceptionCheck(
  fieldText: string,
  op: BinaryOperator,
  value: unknown,
  where: string,
): ConditionNode {
  let field;
  try {
    field = parseFieldExpression(fieldText);
  } catch (err) {
    throw new CompileError(
      `${where}: field ${fieldText}: ${err instanceof Error ? err.message : String(err)}`,
      'exceptions',
    );
  }
  if (LIST_OPERATORS.has(op)) {
    // A list value is a list; a single name may be a list's name, as in Falco.
    const items: Literal[] = Array.isArray(value)
      ? value.map((x) => ({ text: scalarText(x, where), quoted: true }))
      : [{ text: scalarText(value, where), quoted: false }];
    return { type: 'check', field, op, operand: { kind: 'list', items }, pos: 0 };
  }
  return {
    type: 'check',
    field,
    op,
    operand: { kind: 'literal', value: { text: scalarText(value, where), quoted: true } },
    pos: 0,
  };
}

/** `(ex1) or (ex2) …` for a rule's exceptions; undefined when none has values. */
export function exceptionsNode(exceptions: readonly ExceptionDef[]): ConditionNode | undefined {
  const alternatives: ConditionNode[] = [];
  for (const ex of exceptions) {
    const where = `exception ${ex.name}`;
    if (ex.values.length === 0) continue;
    if (typeof ex.fields === 'string') {
      const comp = ex.comps ?? 'in';
      if (!isBinaryOperator(comp))
        throw new CompileError(
          `${where}: comps ${JSON.stringify(comp)} is not an operator`,
          'exceptions',
        );
      if (LIST_OPERATORS.has(comp))
        alternatives.push(exceptionCheck(ex.fields, comp, ex.values, where));
      else
        for (const value of ex.values)
          alternatives.push(exceptionCheck(ex.fields, comp, value, where));
      continue;
    }
    if (
      !Array.isArray(ex.fields) ||
      ex.fields.length === 0 ||
      !ex.fields.every((f): f is string => typeof f === 'string')
    ) {
      throw new CompileError(`${where}: fields must be a field or a list of fields`, 'exceptions');
    }
    const fields = ex.fields;
    const comps: unknown[] =
      ex.comps === undefined ? fields.map(() => '=') : Array.isArray(ex.comps) ? ex.comps : [];
    if (comps.length !== fields.length)
      throw new CompileError(`${where}: comps must have one operator per field`, 'exceptions');
    for (const c of comps)
      if (!isBinaryOperator(c))
        throw new CompileError(`${where}: comps ${String(c)} is not an operator`, 'exceptions');
    for (const tuple of ex.values) {
      if (!Array.isArray(tuple) || tuple.length !== fields.length) {
        throw new CompileError(
          `${where}: each value must list one entry per field (${fields.join(', ')})`,
          'exceptions',
        );
      }
      const checks = fields.map((f, i) =>
        exceptionCheck(f, comps[i] as BinaryOperator, tuple[i], where),
      );
      alternatives.push(
        checks.length === 1 ? (checks[0] as ConditionNode) : { type: 'and', children: checks },
      );
    }
  }
  if (alternatives.length === 0) return undefined;
  return alternatives.length === 1 ? alternatives[0] : { type: 'or', children: alternatives };
}

/** A Falco exception given as data, at run time (`mamori.v1.RuleException`). */
export interface RuleExceptionSpec {
  /** Names the exception in messages. */
  name: string;
  /** Falco fields, at least one. */
  fields: readonly string[];
  /** One operator per field; empty for `=` on every field. */
  comps: readonly string[];
  /** Tuples of one value per field; with a list operator (`in`, `pmatch`…) a list of one. */
  values: readonly (readonly string[])[];
}

/** An exception compiled for each kind of event it can hold on. */
export interface CompiledRuleException {
  /** The kinds it can hold on: on any other event it never does. */
  readonly kinds: readonly EventKind[];
  /** Whether the exception holds on `event`; false (never a throw) on a malformed event. */
  holds(event: Event__Output): boolean;
}

// No macros and no lists: every value of a runtime exception is data.
const DATA_ONLY_SCOPE: CompileScope = {
  fields: createFieldResolver(),
  macro: () => undefined,
  list: () => undefined,
};

/**
 * Compiles an exception given at run time, as Falco compiles a rule's `exceptions`, into
 * per-kind functions. Values never become rule text: a quote or a parenthesis in one is
 * compared literally.
 * @throws CompileError naming the field or value that cannot be used: an unknown field, an
 * operator that is not one, a tuple of the wrong length, a value of the wrong type for its
 * field, or fields Mamori has on no event.
 */
export function compileRuleException(spec: RuleExceptionSpec): CompiledRuleException {
  if (spec.fields.length === 0) {
    throw new CompileError(`exception ${spec.name}: fields must name at least one field`, 'fields');
  }
  if (spec.values.length === 0) {
    throw new CompileError(`exception ${spec.name}: values must hold at least one tuple`, 'values');
  }
  const comps = spec.comps.length === 0 ? spec.fields.map(() => '=') : spec.comps;
  const node = exceptionsNode([
    {
      name: spec.name,
      fields: [...spec.fields],
      comps: [...comps],
      // A list operator's value stays a list, so that it is never taken for a list's name.
      values: spec.values.map((tuple) =>
        tuple.map((value, i) => (LIST_OPERATORS.has(comps[i] as BinaryOperator) ? [value] : value)),
      ),
    },
  ]);
  if (node === undefined) {
    throw new CompileError(`exception ${spec.name}: values must hold at least one tuple`, 'values');
  }
  // Web requests too, whatever the fields: an exception holds on whatever its rule is offered.
  const compiled = compileCondition(node, DATA_ONLY_SCOPE, { webKindsWhenNamed: false });
  if (compiled.kinds.length === 0) {
    const first = compiled.unavailable[0];
    throw new CompileError(
      first === undefined
        ? `exception ${spec.name} can never hold`
        : `exception ${spec.name}: ${first.field}: ${first.reason}`,
      first?.field,
    );
  }
  const byKind: Partial<Record<string, Matcher>> = compiled.matchers;
  return Object.freeze({
    kinds: Object.freeze([...compiled.kinds]),
    holds(event: Event__Output): boolean {
      const kind = event.payload;
      const matcher = kind === undefined ? undefined : byKind[kind];
      if (matcher === undefined) return false;
      try {
        return matcher(event);
      } catch {
        return false;
      }
    },
  });
}
