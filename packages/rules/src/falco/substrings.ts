/**
 * Several `contains` / `icontains` needles searched in one pass over a value (Aho–Corasick):
 * what an `or` of such checks on one field asks (`proc.cmdline icontains "stratum+tcp://" or
 * proc.cmdline contains "--donate-level" or …`), without reading the value once per needle or
 * lower-casing a copy of it.
 *
 * The automaton reads ASCII text folded to lower case (A–Z as a–z). On ASCII text that decides
 * an `icontains` exactly (`toLowerCase()` of ASCII text changes only A–Z), and a `contains`
 * only one way: no folded occurrence means no occurrence. So a scan ends in a state ≥ 0
 * (no needle occurs), {@link MATCH} (an `icontains` needle occurs) or {@link UNSURE} (a
 * `contains` needle occurs up to case, or the text is not ASCII): then the caller decides with
 * the plain checks, which define the result. Both of the last are rare on routine events.
 */

/** One alternative of the `or`: `contains` (`ignoreCase` false) or `icontains`. */
export interface Needle {
  readonly text: string;
  readonly ignoreCase: boolean;
}

/** A scan's result when an `icontains` needle occurs. */
export const MATCH = -1;
/** A scan's result when only the plain checks can tell (see the module comment). */
export const UNSURE = -2;

/**
 * Feeds `piece` to the automaton from `state` (0 at the start of a value); returns the state
 * after it (≥ 0), or {@link MATCH} or {@link UNSURE}, after which nothing more need be fed.
 */
export type SubstringStep = (state: number, piece: string) => number;

export interface SubstringScanner {
  readonly step: SubstringStep;
  /** True when a needle is empty: every value (even '') contains it. */
  readonly matchesAnything: boolean;
}

// Output of a state: a needle of this kind ends here (MATCHES wins over CANDIDATE).
const NONE = 0;
const CANDIDATE = 1;
const MATCHES = 2;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

/** A–Z as a–z; other code units unchanged. */
function foldAscii(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return out;
}

/** Compiles `needles` into one scanner (see the module comment). */
export function compileSubstrings(needles: readonly Needle[]): SubstringScanner {
  const keys: { key: string; out: number }[] = [];
  let matchesAnything = false;
  for (const n of needles) {
    // The needle as the plain check compares it: lower-cased for icontains.
    const text = n.ignoreCase ? n.text.toLowerCase() : n.text;
    if (text === '') matchesAnything = true;
    // A needle with other than ASCII never occurs in ASCII text (nor does the lower case of one
    // in the lower case of ASCII text); text that is not ASCII goes to the plain checks.
    if (!isAscii(text)) continue;
    keys.push({ key: foldAscii(text), out: n.ignoreCase ? MATCHES : CANDIDATE });
  }

  // Character classes: one per distinct character of the keys, 0 for every other one.
  const classOf = new Uint8Array(128);
  let width = 1;
  for (const { key } of keys) {
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (classOf[c] === 0) classOf[c] = width++;
    }
  }
  for (let c = 65; c <= 90; c++) classOf[c] = classOf[c + 32] as number;

  // The trie, then failure links breadth first, filled in as a complete transition table.
  const children: Map<number, number>[] = [new Map<number, number>()];
  const output: number[] = [NONE];
  for (const { key, out } of keys) {
    let s = 0;
    for (let i = 0; i < key.length; i++) {
      const cls = classOf[key.charCodeAt(i)] as number;
      let next = (children[s] as Map<number, number>).get(cls);
      if (next === undefined) {
        next = children.length;
        children.push(new Map<number, number>());
        output.push(NONE);
        (children[s] as Map<number, number>).set(cls, next);
      }
      s = next;
    }
    output[s] = Math.max(output[s] as number, out);
  }
  const states = children.length;
  const delta = new Int32Array(states * width);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let cls = 0; cls < width; cls++) {
    const next = (children[0] as Map<number, number>).get(cls);
    if (next !== undefined) {
      delta[cls] = next;
      queue.push(next);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q] as number;
    const f = fail[s] as number;
    output[s] = Math.max(output[s] as number, output[f] as number);
    for (let cls = 0; cls < width; cls++) {
      const next = (children[s] as Map<number, number>).get(cls);
      if (next === undefined) {
        delta[s * width + cls] = delta[f * width + cls] as number;
      } else {
        fail[next] = delta[f * width + cls] as number;
        delta[s * width + cls] = next;
        queue.push(next);
      }
    }
  }
  const out = Uint8Array.from(output);

  const step: SubstringStep = (state, piece) => {
    let s = state;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (c > 127) return UNSURE;
      s = delta[s * width + (classOf[c] as number)] as number;
      const o = out[s] as number;
      if (o !== NONE) return o === MATCHES ? MATCH : UNSURE;
    }
    return s;
  };
  return { step, matchesAnything };
}
