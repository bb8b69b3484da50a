import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** `extensions.code` of the errors a rejected query gets. */
export const LimitCode = {
  Depth: 'DEPTH_LIMIT',
  Complexity: 'COMPLEXITY_LIMIT',
} as const;

interface Walk {
  fragments: Map<string, FragmentDefinitionNode>;
  /** `first` assumed for a connection whose `first` is a variable or absent. */
  pageSizeFor(variableOrDefault: 'variable' | 'default'): number;
}

/** Depth of a selection set, following fragments; introspection fields do not count. */
function depthOf(set: SelectionSetNode, walk: Walk, seen: ReadonlySet<string>): number {
  let deepest = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      const below = selection.selectionSet ? depthOf(selection.selectionSet, walk, seen) : 0;
      deepest = Math.max(deepest, 1 + below);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, walk, seen));
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // A cycle is reported by graphql's own NoFragmentCyclesRule.
      if (!fragment || seen.has(name)) continue;
      deepest = Math.max(deepest, depthOf(fragment.selectionSet, walk, new Set([...seen, name])));
    }
  }
  return deepest;
}

/**
 * Cost of a selection set: each field costs 1, and what is selected below a field with a
 * `first` argument costs `first` times as much (one copy per item of the page).
 */
function costOf(set: SelectionSetNode, walk: Walk, seen: ReadonlySet<string>): number {
  let cost = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      let multiplier = 1;
      const hasFirst = selection.arguments?.find((a) => a.name.value === 'first');
      if (hasFirst) {
        multiplier =
          hasFirst.value.kind === Kind.INT
            ? Math.max(0, Number(hasFirst.value.value))
            : walk.pageSizeFor('variable');
      } else if (selection.name.value in CONNECTION_FIELDS) {
        multiplier = walk.pageSizeFor('default');
      }
      const below = selection.selectionSet ? costOf(selection.selectionSet, walk, seen) : 0;
      cost += 1 + multiplier * below;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      cost += costOf(selection.selectionSet, walk, seen);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      if (!fragment || seen.has(name)) continue;
      cost += costOf(fragment.selectionSet, walk, new Set([...seen, name]));
    }
  }
  return cost;
}

/** Root fields that are connections, with a `first` that defaults when left out. */
const CONNECTION_FIELDS = {
  events: true,
  alerts: true,
  agents: true,
  workloads: true,
  incidents: true,
  auditTrail: true,
} as const;

export interface LimitOptions {
  maxDepth: number;
  maxComplexity: number;
  /** Largest `first`: what a `first` given as a variable is assumed to be. */
  maxPageSize: number;
  /** `first` of a connection that does not give one. */
  defaultPageSize: number;
}

/**
 * Validation rules that reject a query deeper than `maxDepth` (code DEPTH_LIMIT) or costlier
 * than `maxComplexity` (code COMPLEXITY_LIMIT) before anything runs. Validation sees no
 * variables, so a `first` given as a variable counts as the largest page.
 */
export function limitRules(options: LimitOptions): ValidationRule[] {
  const rule = (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      }
    }
    const walk: Walk = {
      fragments,
      pageSizeFor: (why) => (why === 'variable' ? options.maxPageSize : options.defaultPageSize),
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, walk, new Set());
        if (depth > options.maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${depth} exceeds the limit of ${options.maxDepth}`, {
              nodes: [operation],
              extensions: { code: LimitCode.Depth },
            }),
          );
          return;
        }
        const cost = costOf(operation.selectionSet, walk, new Set());
        if (cost > options.maxComplexity) {
          context.reportError(
            new GraphQLError(
              `query cost ${cost} exceeds the limit of ${options.maxComplexity} (each field costs 1, times the page size of each connection above it)`,
              {
                nodes: [operation],
                extensions: { code: LimitCode.Complexity, cost, limit: options.maxComplexity },
              },
            ),
          );
        }
      },
    };
  };
  return [rule];
}
