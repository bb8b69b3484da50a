import type { RuleCatalog__Output, RuleException__Output } from '@mamori/proto';
import { compileRuleException, type CompiledRuleException } from '@mamori/rules';

/** `upsertRuleException`'s input, as GraphQL hands it over. */
export interface RuleExceptionInput {
  id: string;
  rule: string;
  name?: string | null;
  fields: string[];
  comps?: string[] | null;
  values: string[][];
  comment?: string | null;
}

/** What makes an input unusable: a field and why. */
export interface InputProblem {
  field: string;
  message: string;
}

/** The proto's rule for exception ids (`mamori.v1.RuleException.id`), as for policies. */
const EXCEPTION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Bounds that keep one exception a small record and its check cheap: an exception lists a few
// fields, and values by the hundred at most (Falco's own files list tens).
const MAX_FIELDS = 16;
const MAX_TUPLES = 1000;
const MAX_VALUE = 4096;
const MAX_TEXT = 4096;
const MAX_RULE_ID = 512;

/**
 * The exception an input describes, checked and compiled. The tenant is not part of it: the
 * caller's credential decides that.
 */
export function exceptionOfInput(input: RuleExceptionInput): {
  exception: RuleException__Output;
  compiled?: CompiledRuleException;
  problems: InputProblem[];
} {
  const problems: InputProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!EXCEPTION_ID.test(input.id)) problem('id', 'id: 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  if (input.rule === '' || input.rule.length > MAX_RULE_ID) {
    problem('rule', `rule: a rule id of 1 to ${MAX_RULE_ID} characters`);
  }
  const name = input.name ?? '';
  const comment = input.comment ?? '';
  if (name.length > MAX_TEXT) problem('name', `name: at most ${MAX_TEXT} characters`);
  if (comment.length > MAX_TEXT) problem('comment', `comment: at most ${MAX_TEXT} characters`);
  const comps = input.comps ?? [];
  if (input.fields.length === 0 || input.fields.length > MAX_FIELDS) {
    problem('fields', `fields: 1 to ${MAX_FIELDS} Falco fields`);
  }
  if (comps.length !== 0 && comps.length !== input.fields.length) {
    problem('comps', 'comps: one operator per field, or none for = on every field');
  }
  if (input.values.length === 0 || input.values.length > MAX_TUPLES) {
    problem('values', `values: 1 to ${MAX_TUPLES} tuples`);
  }
  input.values.forEach((tuple, i) => {
    if (tuple.length !== input.fields.length) {
      problem('values', `values[${i}]: one value per field (${input.fields.length})`);
    }
    if (tuple.some((v) => v.length > MAX_VALUE)) {
      problem('values', `values[${i}]: values of at most ${MAX_VALUE} characters`);
    }
  });
  const exception: RuleException__Output = {
    id: input.id,
    rule: input.rule,
    name,
    fields: input.fields,
    comps,
    values: input.values.map((values) => ({ values })),
    comment,
  };
  if (problems.length > 0) return { exception, problems };
  try {
    const compiled = compileRuleException({
      name: input.id,
      fields: input.fields,
      comps,
      values: input.values,
    });
    return { exception, compiled, problems };
  } catch (err) {
    const field = (err as { field?: unknown }).field;
    problem(
      typeof field === 'string' && input.fields.includes(field) ? 'fields' : 'values',
      err instanceof Error ? err.message : String(err),
    );
    return { exception, problems };
  }
}

/** A rule as the detectors' catalogs describe it. */
export type CatalogRule = RuleCatalog__Output['rules'][number];

/**
 * Why an exception can never silence `rule`, or undefined when it can: it holds only on kinds
 * of events the rule never fires on.
 */
export function kindMismatch(
  compiled: CompiledRuleException,
  rule: { readonly id: string; readonly kinds: readonly string[] },
): string | undefined {
  if (compiled.kinds.some((kind) => rule.kinds.includes(kind))) return undefined;
  return (
    `the exception's fields exist only on ${compiled.kinds.join(', ')} events, ` +
    `and ${rule.id} fires on ${rule.kinds.join(', ')} events`
  );
}
