/**
 * `contains` / `icontains` needles searched in one pass over a value (Aho–Corasick): what an
 * `or` of such checks on one field asks (`proc.cmdline icontains "stratum+tcp://" or
 * proc.cmdline contains "--donate-level" or …`), without reading the value once per needle or
 * lower-casing a copy of it. The needles come in groups (one group per `or`, from any rule of a
 * load), and one pass finds which groups occur: rules that search one field share the pass.
 *
 * The automaton reads ASCII text folded to lower case (A–Z as a–z). On ASCII text that decides
 * an `icontains` exactly (`toLowerCase()` of ASCII text changes only A–Z), and a `contains`
 * only one way: no folded occurrence means no occurrence. So for each group a scan says: no
 * needle occurs, an `icontains` needle occurs ({@link SubstringScan.matched}), or it cannot
 * tell ({@link SubstringScan.unsure}: a `contains` needle occurs up to case, or the text is not
 * ASCII), and then the group's plain checks, which define the result, decide. The last two are
 * rare on routine events.
 */

/** One alternative of an `or`: `contains` (`ignoreCase` false) or `icontains`. */
export interface Needle {
  readonly text: string;
  readonly ignoreCase: boolean;
}

/** What {@link SubstringScan.step} returns on text that is not ASCII: stop, every group unsure. */
export const NOT_ASCII = -1;

/** The groups one value holds, as bits (`1 << group`). */
export interface SubstringScan {
  /** Starts a scan of a value; returns the state to feed the first piece from. */
  start(): number;
  /**
   * Feeds `piece` from `state`; returns the state after it (≥ 0), or {@link NOT_ASCII}, after
   * which nothing more need be fed.
   */
  readonly step: (state: number, piece: string) => number;
  /**
   * Feeds `words[from…]` joined with single spaces (after a space when `spaceFirst`), as `join`
   * writes them (null and undefined as ''): a command line without building it.
   */
  readonly words: (
    state: number,
    words: readonly string[],
    from: number,
    spaceFirst: boolean,
  ) => number;
  /** Groups an `icontains` needle of which occurs in what was fed since `start`. */
  readonly matched: number;
  /** Groups a `contains` needle of which occurs up to case (only the plain checks can tell). */
  readonly unsure: number;
  /** Groups with an empty needle: every value (even '') contains it. */
  readonly anything: number;
}

/** At most this many groups in one scanner (bits of a small integer). */
export const MAX_SUBSTRING_GROUPS = 30;

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

/**
 * One scanner for `groups` of needles (group `g` is bit `1 << g` of the results).
 * @throws RangeError for more than {@link MAX_SUBSTRING_GROUPS} groups.
 */
export function compileSubstrings(groups: readonly (readonly Needle[])[]): SubstringScan {
  if (groups.length > MAX_SUBSTRING_GROUPS)
    throw new RangeError(`at most ${MAX_SUBSTRING_GROUPS} groups of needles`);
  const keys: { key: string; matched: number; unsure: number }[] = [];
  let anything = 0;
  groups.forEach((needles, g) => {
    for (const n of needles) {
      // The needle as the plain check compares it: lower-cased for icontains.
      const text = n.ignoreCase ? n.text.toLowerCase() : n.text;
      if (text === '') {
        anything |= 1 << g;
        continue;
      }
      // A needle with other than ASCII never occurs in ASCII text (nor does the lower case of
      // one in the lower case of ASCII text); text that is not ASCII goes to the plain checks.
      if (!isAscii(text)) continue;
      keys.push({
        key: foldAscii(text),
        matched: n.ignoreCase ? 1 << g : 0,
        unsure: n.ignoreCase ? 0 : 1 << g,
      });
    }
  });

  // Character classes: one per distinct character of the keys (A–Z as a–z), 0 for the others.
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
  const matchedOf: number[] = [0];
  const unsureOf: number[] = [0];
  for (const { key, matched, unsure } of keys) {
    let s = 0;
    for (let i = 0; i < key.length; i++) {
      const cls = classOf[key.charCodeAt(i)] as number;
      let child = (children[s] as Map<number, number>).get(cls);
      if (child === undefined) {
        child = children.length;
        children.push(new Map<number, number>());
        matchedOf.push(0);
        unsureOf.push(0);
        (children[s] as Map<number, number>).set(cls, child);
      }
      s = child;
    }
    matchedOf[s] = (matchedOf[s] as number) | matched;
    unsureOf[s] = (unsureOf[s] as number) | unsure;
  }
  const states = children.length;
  const next = new Int32Array(states * width);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let cls = 0; cls < width; cls++) {
    const child = (children[0] as Map<number, number>).get(cls);
    if (child !== undefined) {
      next[cls] = child;
      queue.push(child);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    const s = queue[q] as number;
    const f = fail[s] as number;
    // What ends at the failure state ends here too.
    matchedOf[s] = (matchedOf[s] as number) | (matchedOf[f] as number);
    unsureOf[s] = (unsureOf[s] as number) | (unsureOf[f] as number);
    for (let cls = 0; cls < width; cls++) {
      const child = (children[s] as Map<number, number>).get(cls);
      if (child === undefined) {
        next[s * width + cls] = next[f * width + cls] as number;
      } else {
        fail[child] = next[f * width + cls] as number;
        next[s * width + cls] = child;
        queue.push(child);
      }
    }
  }
  // Rows of `width` entries, one per state. An entry is the next state's row offset, or its
  // complement (< 0) when a needle ends in that state: one test a character in the common case.
  const delta = new Int32Array(states * width);
  for (let i = 0; i < delta.length; i++) {
    const s = next[i] as number;
    const ends = (matchedOf[s] as number) !== 0 || (unsureOf[s] as number) !== 0;
    delta[i] = ends ? ~(s * width) : s * width;
  }
  const matchedAt = Int32Array.from(matchedOf);
  const unsureAt = Int32Array.from(unsureOf);

  const space = classOf[32] as number;
  const scan = {
    matched: 0,
    unsure: 0,
    anything,
    start(): number {
      scan.matched = 0;
      scan.unsure = 0;
      return 0;
    },
    step(state: number, piece: string): number {
      let s = state;
      for (let i = 0; i < piece.length; i++) {
        const c = piece.charCodeAt(i);
        if (c > 127) return NOT_ASCII;
        s = delta[s + (classOf[c] as number)] as number;
        if (s < 0) s = ended(s);
      }
      return s;
    },
    words(state: number, words: readonly string[], from: number, spaceFirst: boolean): number {
      let s = state;
      for (let w = from; w < words.length; w++) {
        if (w > from || spaceFirst) {
          s = delta[s + space] as number;
          if (s < 0) s = ended(s);
        }
        const word = words[w] ?? '';
        for (let i = 0; i < word.length; i++) {
          const c = word.charCodeAt(i);
          if (c > 127) return NOT_ASCII;
          s = delta[s + (classOf[c] as number)] as number;
          if (s < 0) s = ended(s);
        }
      }
      return s;
    },
  };
  /** Notes what ends in the state whose complemented row offset is `entry`; its offset. */
  function ended(entry: number): number {
    const s = ~entry;
    const row = s / width;
    scan.matched |= matchedAt[row] as number;
    scan.unsure |= unsureAt[row] as number;
    return s;
  }
  return scan;
}
