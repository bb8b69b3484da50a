/** The syntax tree of a Falco condition, as the parser makes it and the compiler reads it. */

/** Comparison operators that take a value on the right. */
export const BINARY_OPERATORS = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'in',
  'intersects',
  'pmatch',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'glob',
  'regex',
] as const;
export type BinaryOperator = (typeof BINARY_OPERATORS)[number];
export type Operator = BinaryOperator | 'exists';

/** The operators whose right side is a list `(a, b, …)`. */
export const LIST_OPERATORS: ReadonlySet<Operator> = new Set(['in', 'intersects', 'pmatch']);

export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len'] as const;
export type Transformer = (typeof TRANSFORMERS)[number];

/** A field, possibly with an argument (`proc.aname[2]`) and transformers (outermost first). */
export interface FieldRef {
  readonly name: string;
  readonly arg?: string;
  readonly transformers: readonly Transformer[];
  /** Offset in the condition text, for messages. */
  readonly pos: number;
}

/** One right-hand value. `quoted` values are never taken for list names. */
export interface Literal {
  readonly text: string;
  readonly quoted: boolean;
}

export type Operand =
  | { readonly kind: 'literal'; readonly value: Literal }
  | { readonly kind: 'list'; readonly items: readonly Literal[] }
  | { readonly kind: 'field'; readonly field: FieldRef };

export type ConditionNode =
  | { readonly type: 'and'; readonly children: readonly ConditionNode[] }
  | { readonly type: 'or'; readonly children: readonly ConditionNode[] }
  | { readonly type: 'not'; readonly child: ConditionNode }
  | { readonly type: 'macro'; readonly name: string; readonly pos: number }
  | {
      readonly type: 'check';
      readonly field: FieldRef;
      readonly op: Operator;
      /** Absent only for `exists`. */
      readonly operand?: Operand;
      readonly pos: number;
    };

/** A field as written, e.g. `tolower(proc.aname[2])`, for messages and output keys. */
export function fieldText(field: FieldRef): string {
  let text = field.arg === undefined ? field.name : `${field.name}[${field.arg}]`;
  for (let i = field.transformers.length - 1; i >= 0; i--)
    text = `${field.transformers[i]}(${text})`;
  return text;
}
