import {
  decodeBase64Text,
  decodeFormVariant,
  decodeValue,
  looksFormEncoded,
  MIN_BASE64_LENGTH,
} from './decode.js';
import type { InspectedValue } from './types.js';

/** At most this many values are taken from one request, so that work per request is bounded. */
export const MAX_VALUES = 4096;

/**
 * Collects values up to {@link MAX_VALUES}, with a twin where a value reads two ways: form-decoded
 * (`+` as space, see `decodeFormVariant`) and base64-decoded.
 */
export class ValueSink {
  readonly values: InspectedValue[] = [];
  truncated = false;

  add(value: InspectedValue, tryBase64 = true): void {
    if (this.values.length >= MAX_VALUES) {
      this.truncated = true;
      return;
    }
    const form =
      value.kind === 'json-key' || value.value.indexOf('+') === -1
        ? undefined
        : decodeFormVariant(value.raw, value.value);
    if (form !== undefined && looksFormEncoded(value.raw)) {
      // Plainly a form encoder's output: its `+` are spaces, and only that reading is inspected.
      value = { ...value, value: form };
      this.values.push(value);
    } else {
      this.values.push(value);
      if (form !== undefined) this.values.push({ ...value, value: form });
    }
    if (tryBase64 && value.value.length >= MIN_BASE64_LENGTH) {
      // A form decoder made the base64 `+` spaces: base64 has none, so they were pluses.
      const encoded =
        value.value.indexOf(' ') !== -1 && value.raw.indexOf('+') !== -1
          ? value.value.replaceAll(' ', '+')
          : value.value;
      const text = decodeBase64Text(encoded);
      if (text !== undefined) {
        this.values.push({ ...value, value: decodeValue(text) });
      }
    }
  }
}

/** Whether a name is a plain identifier: such names are not inspected as values of their own. */
export function isPlainName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 95 ||
      c === 45 ||
      c === 46 ||
      c === 91 ||
      c === 93;
    if (!ok) return false;
  }
  return true;
}

/**
 * Where the field that starts at `from` ends: the next `&`, except a run of `&` with a raw blank
 * on both sides. No encoder writes a raw blank (it writes `+` or `%20`), and no one writing
 * `a=1&b=2` by hand puts blanks around the separator: in `cmd=1.1.1.1 && id` the `&&` is text,
 * as a shell reads it, not two separators.
 */
function fieldEnd(text: string, from: number): number {
  let at = text.indexOf('&', from);
  while (at !== -1) {
    let run = at;
    while (text.charCodeAt(run) === 38 /* & */) run++;
    if (at === 0 || text.charCodeAt(at - 1) !== 32 || text.charCodeAt(run) !== 32) return at;
    at = text.indexOf('&', run);
  }
  return text.length;
}

/**
 * `a=1&b=2` (a query string or a URL-encoded form) into values at `<prefix>.<name>`, `+` as
 * space; a name that is not a plain identifier is inspected too.
 */
export function addUrlEncoded(
  text: string,
  prefix: string,
  kind: InspectedValue['kind'],
  sink: ValueSink,
): void {
  let start = 0;
  const n = text.length;
  while (start <= n) {
    const end = fieldEnd(text, start);
    if (end > start) {
      const pair = text.slice(start, end);
      const eq = pair.indexOf('=');
      const rawName = eq === -1 ? pair : pair.slice(0, eq);
      const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
      const name = decodeValue(rawName, { plusAsSpace: true });
      const location = `${prefix}.${name}`;
      // Plain names are not attacks, except the keys that pollute prototypes (`a[__proto__][x]`).
      if (!isPlainName(name) || name.includes('__proto__') || name.includes('constructor')) {
        sink.add({ location, value: name, raw: rawName, name, kind });
      }
      if (rawValue !== '') {
        const value = decodeValue(rawValue, { plusAsSpace: true });
        sink.add({ location, value, raw: rawValue, name, kind });
      }
    }
    start = end + 1;
  }
}
