/**
 * A browser's HTML tokenizer, cut down to what XSS detection needs: start tags with their
 * attributes, end tags, comments and bogus comments, in one forward pass (linear time).
 * Follows the WHATWG tokenizer states closely enough that `<img/src=x onerror=…>`,
 * `<svg\nonload=…>` and attributes glued together after a quote parse as a browser parses them.
 */

/** One attribute as a browser would record it; `value` is still entity-encoded. */
export interface HtmlAttribute {
  /** Lower-cased name. */
  name: string;
  value: string;
  hasValue: boolean;
  /** Offset of the name in the scanned text. */
  start: number;
}

/** A start tag, possibly cut off by the end of the input (`closed` false). */
export interface HtmlTag {
  /** Lower-cased name, NUL characters removed (old parsers dropped them). */
  name: string;
  attributes: HtmlAttribute[];
  start: number;
  end: number;
  closed: boolean;
}

export interface HtmlVisitor {
  startTag(tag: HtmlTag): void;
  /** Text of a comment or bogus comment (`<!…>`, `<?…>`), without its delimiters. */
  comment(text: string, start: number): void;
  /** Raw text of an element whose content a browser does not tokenize (`<style>`). */
  rawText(tagName: string, text: string, start: number): void;
}

function isSpace(c: number): boolean {
  // tab, line feed, form feed, carriage return, space: the tokenizer's whitespace.
  return c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Reads attributes from `from` as in the "before attribute name" state, up to a `>` or the end.
 * Returns the offset after the `>` (or the text's length) and whether a `>` was seen.
 */
export function readAttributes(
  s: string,
  from: number,
  into: HtmlAttribute[],
): { end: number; closed: boolean } {
  const n = s.length;
  let p = from;
  for (;;) {
    while (p < n && (isSpace(s.charCodeAt(p)) || s.charCodeAt(p) === 0x2f)) p++;
    if (p >= n) return { end: n, closed: false };
    if (s.charCodeAt(p) === 0x3e) return { end: p + 1, closed: true };
    const nameStart = p;
    p++; // the first character is always part of the name, even '='
    while (p < n) {
      const c = s.charCodeAt(p);
      if (isSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
      p++;
    }
    const name = s.slice(nameStart, p).toLowerCase();
    let q = p;
    while (q < n && isSpace(s.charCodeAt(q))) q++;
    if (q < n && s.charCodeAt(q) === 0x3d) {
      q++;
      while (q < n && isSpace(s.charCodeAt(q))) q++;
      const c = s.charCodeAt(q);
      if (c === 0x22 || c === 0x27) {
        const close = s.indexOf(s[q]!, q + 1);
        const valueEnd = close < 0 ? n : close;
        into.push({ name, value: s.slice(q + 1, valueEnd), hasValue: true, start: nameStart });
        p = close < 0 ? n : close + 1;
      } else {
        let e = q;
        while (e < n && !isSpace(s.charCodeAt(e)) && s.charCodeAt(e) !== 0x3e) e++;
        into.push({ name, value: s.slice(q, e), hasValue: true, start: nameStart });
        p = e;
      }
    } else {
      into.push({ name, value: '', hasValue: false, start: nameStart });
    }
  }
}

/** Elements whose content a browser reads as raw text up to their end tag. */
const RAW_TEXT = new Set(['style', 'xmp']);

/** Walks `s` in the data state and reports tags, comments and raw text to `visitor`. */
export function tokenizeHtml(s: string, visitor: HtmlVisitor): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const lt = s.indexOf('<', i);
    if (lt < 0 || lt + 1 >= n) return;
    const c = s.charCodeAt(lt + 1);
    if (isAsciiLetter(c)) {
      let p = lt + 1;
      while (p < n) {
        const d = s.charCodeAt(p);
        if (isSpace(d) || d === 0x2f || d === 0x3e) break;
        p++;
      }
      const name = s
        .slice(lt + 1, p)
        .replaceAll('\0', '')
        .replaceAll('\\0', '')
        .toLowerCase();
      const attributes: HtmlAttribute[] = [];
      const { end, closed } = readAttributes(s, p, attributes);
      visitor.startTag({ name, attributes, start: lt, end, closed });
      i = end;
      if (closed && RAW_TEXT.has(name)) {
        const close = indexOfIgnoreCase(s, `</${name}`, end);
        const textEnd = close < 0 ? n : close;
        visitor.rawText(name, s.slice(end, textEnd), end);
        i = textEnd;
      }
    } else if (c === 0x2f) {
      // An end tag: its attributes mean nothing to a browser, skip to '>'.
      if (lt + 2 < n && isAsciiLetter(s.charCodeAt(lt + 2))) {
        const gt = s.indexOf('>', lt + 2);
        i = gt < 0 ? n : gt + 1;
      } else {
        i = lt + 2;
      }
    } else if (c === 0x21) {
      if (s.startsWith('--', lt + 2)) {
        // `<!-->` and `<!--->` close at once; otherwise the comment ends at the first `-->`.
        const bodyStart = lt + 4;
        if (s.startsWith('>', bodyStart) || s.startsWith('->', bodyStart)) {
          i = s.indexOf('>', bodyStart) + 1;
          continue;
        }
        const close = s.indexOf('-->', bodyStart);
        // An unclosed comment swallows the rest in a browser, but the page around an injected
        // value may close it: keep reading as data.
        const bodyEnd = close < 0 ? n : close;
        visitor.comment(s.slice(bodyStart, bodyEnd), bodyStart);
        i = close < 0 ? bodyStart : close + 3;
      } else {
        const gt = s.indexOf('>', lt + 2);
        visitor.comment(s.slice(lt + 2, gt < 0 ? n : gt), lt + 2);
        i = gt < 0 ? lt + 2 : gt + 1;
      }
    } else if (c === 0x3f) {
      const gt = s.indexOf('>', lt + 2);
      visitor.comment(s.slice(lt + 2, gt < 0 ? n : gt), lt + 2);
      i = gt < 0 ? lt + 2 : gt + 1;
    } else {
      i = lt + 1;
    }
  }
}

/** `indexOf` for an ASCII needle, ignoring ASCII case, without building a lower-cased copy. */
export function indexOfIgnoreCase(s: string, needle: string, from: number): number {
  const first = needle.charCodeAt(0);
  const firstUpper = first >= 0x61 && first <= 0x7a ? first - 0x20 : first;
  const m = needle.length;
  outer: for (let i = from; i + m <= s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== first && c !== firstUpper) continue;
    for (let k = 1; k < m; k++) {
      let d = s.charCodeAt(i + k);
      if (d >= 0x41 && d <= 0x5a) d += 0x20;
      if (d !== needle.charCodeAt(k)) continue outer;
    }
    return i;
  }
  return -1;
}
