/**
 * Sigma's value wildcards (`*` any run, `?` one character, `\` escaping either or itself),
 * compiled into a matcher that never backtracks: values are compared with attacker-controlled
 * command lines and paths, so the time must stay linear in the input whatever the pattern.
 */

/** A run of literal characters between two `*`; `ones` are the positions of `?`. */
interface Segment {
  readonly text: string;
  readonly ones: readonly number[];
}

/** A Sigma string value split at its `*` wildcards: `segments.length` is stars + 1. */
export interface SigmaPattern {
  readonly segments: readonly Segment[];
}

// `?` positions are tracked apart from the text, so any character can stand in the text.
const ONE_PLACEHOLDER = '\u0000';

/**
 * Parses a Sigma value. A backslash escapes only `*`, `?` and itself; before any other
 * character it is literal, so Windows-style paths need no doubling (the Sigma specification).
 * With `caseSensitive` false the literal parts are lower-cased, to be compared with lower-cased
 * input.
 */
export function parseSigmaPattern(value: string, caseSensitive: boolean): SigmaPattern {
  const segments: Segment[] = [];
  let text = '';
  let ones: number[] = [];
  const literal = (ch: string): void => {
    text += caseSensitive ? ch : ch.toLowerCase();
  };
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? '';
    if (ch === '\\') {
      const next = value[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        literal(next);
        i++;
      } else {
        literal(ch);
      }
    } else if (ch === '*') {
      segments.push({ text, ones });
      text = '';
      ones = [];
    } else if (ch === '?') {
      ones.push(text.length);
      text += ONE_PLACEHOLDER;
    } else {
      literal(ch);
    }
  }
  segments.push({ text, ones });
  return { segments };
}

/** A pattern with `*` added where `contains`, `startswith` or `endswith` asks for one. */
export function widenPattern(
  pattern: SigmaPattern,
  where: { start: boolean; end: boolean },
): SigmaPattern {
  const empty: Segment = { text: '', ones: [] };
  const segments = [...pattern.segments];
  if (where.start) segments.unshift(empty);
  if (where.end) segments.push(empty);
  return { segments };
}

/** True when the pattern has no `*` or `?`: it is one literal string. */
export function literalOf(pattern: SigmaPattern): string | undefined {
  const [only, ...rest] = pattern.segments;
  if (only === undefined || rest.length > 0 || only.ones.length > 0) return undefined;
  return only.text;
}

function segmentAt(input: string, at: number, segment: Segment): boolean {
  const { text, ones } = segment;
  if (ones.length === 0) return input.startsWith(text, at);
  if (at + text.length > input.length) return false;
  for (let j = 0; j < text.length; j++) {
    if (text[j] !== input[at + j] && !(text[j] === ONE_PLACEHOLDER && ones.includes(j))) {
      return false;
    }
  }
  return true;
}

/** The leftmost start ≥ `from` where `segment` matches and ends by `limit`, or -1. */
function findSegment(input: string, from: number, limit: number, segment: Segment): number {
  const last = limit - segment.text.length;
  if (segment.ones.length === 0) {
    const at = input.indexOf(segment.text, from);
    return at !== -1 && at <= last ? at : -1;
  }
  for (let at = from; at <= last; at++) if (segmentAt(input, at, segment)) return at;
  return -1;
}

/**
 * A matcher for the whole of `input`. Between stars, taking each segment at its leftmost
 * place is always right (a later place only leaves less room for the rest), so one pass over
 * the input suffices: O(input × pattern), never exponential.
 */
export function compilePattern(pattern: SigmaPattern): (input: string) => boolean {
  const { segments } = pattern;
  const first = segments[0] ?? { text: '', ones: [] };
  if (segments.length === 1) {
    return (input) => input.length === first.text.length && segmentAt(input, 0, first);
  }
  const lastSegment = segments[segments.length - 1] ?? { text: '', ones: [] };
  const middle = segments.slice(1, -1).filter((s) => s.text.length > 0);
  const fixed = first.text.length + lastSegment.text.length;
  // `a*`, `*a` and `a*b` (startswith, endswith) need no search at all.
  if (middle.length === 0 && first.ones.length === 0 && lastSegment.ones.length === 0) {
    return (input) =>
      input.length >= fixed && input.startsWith(first.text) && input.endsWith(lastSegment.text);
  }
  return (input) => {
    if (input.length < fixed) return false;
    if (!segmentAt(input, 0, first)) return false;
    const limit = input.length - lastSegment.text.length;
    if (!segmentAt(input, limit, lastSegment)) return false;
    let at = first.text.length;
    for (const segment of middle) {
      const found = findSegment(input, at, limit, segment);
      if (found === -1) return false;
      at = found + segment.text.length;
    }
    return true;
  };
}
