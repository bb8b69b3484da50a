import { RE2JS } from 're2js';

/** A regular expression that matches in time linear in its input (RE2 semantics). */
export interface LinearRegex {
  readonly source: string;
  /** True when the pattern matches anywhere in `input` (unanchored search). */
  test(input: string): boolean;
  /** True when the pattern matches the whole of `input`. */
  matchesWhole(input: string): boolean;
}

/**
 * Compiles `pattern` with RE2's syntax, which has no backreferences or lookaround and so can
 * never backtrack: rules run on attacker-controlled strings (command lines, paths, URLs).
 * @throws Error with RE2's message when the pattern is invalid or uses what RE2 refuses.
 */
export function compileLinearRegex(
  pattern: string,
  options: { caseInsensitive?: boolean; dotAll?: boolean; multiline?: boolean } = {},
): LinearRegex {
  let flags = 0;
  if (options.caseInsensitive === true) flags |= RE2JS.CASE_INSENSITIVE;
  if (options.dotAll === true) flags |= RE2JS.DOTALL;
  if (options.multiline === true) flags |= RE2JS.MULTILINE;
  const re = RE2JS.compile(pattern, flags);
  return {
    source: pattern,
    test: (input) => re.matcher(input).find(),
    matchesWhole: (input) => re.matches(input),
  };
}
