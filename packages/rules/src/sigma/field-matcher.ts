import { compileLinearRegex } from '../linear-regex.js';
import { compileCidr } from './cidr.js';
import { invalid, unsupported } from './errors.js';
import { compilePattern, literalOf, parseSigmaPattern, widenPattern } from './wildcard.js';

/** A field's text in one event; `lower` is computed once, when a rule first asks for it. */
export interface FieldText {
  readonly raw: string;
  readonly lower: string;
}

export function fieldText(raw: string): FieldText {
  let lower: string | undefined;
  return {
    raw,
    get lower() {
      return (lower ??= raw.toLowerCase());
    },
  };
}

/** True when a field (undefined when the event does not carry it) satisfies a detection item. */
export type FieldMatcher = (value: FieldText | undefined) => boolean;

type ValueTest = (value: FieldText) => boolean;

const MATCH_TYPES = [
  'contains',
  'startswith',
  'endswith',
  're',
  'cidr',
  'exists',
  'lt',
  'lte',
  'gt',
  'gte',
] as const;
type MatchType = (typeof MATCH_TYPES)[number] | 'equals';

const ENCODINGS = ['wide', 'utf16le', 'utf16be', 'utf16'] as const;
type Encoding = (typeof ENCODINGS)[number];

const RE_FLAGS: Record<string, 'i' | 'm' | 's'> = {
  i: 'i',
  ignorecase: 'i',
  m: 'm',
  multiline: 'm',
  s: 's',
  dotall: 's',
};

// Modifiers of the Sigma specification this engine knowingly leaves out.
const NOT_IMPLEMENTED: Record<string, string> = {
  expand: 'placeholders need a pipeline to fill them',
  fieldref: 'comparing two fields of one event is not implemented',
};

interface Modifiers {
  match: MatchType;
  all: boolean;
  cased: boolean;
  base64: 'plain' | 'offset' | undefined;
  encoding: Encoding | undefined;
  windash: boolean;
  reFlags: Set<'i' | 'm' | 's'>;
}

function parseModifiers(names: readonly string[], field: string): Modifiers {
  const mods: Modifiers = {
    match: 'equals',
    all: false,
    cased: false,
    base64: undefined,
    encoding: undefined,
    windash: false,
    reFlags: new Set(),
  };
  for (const raw of names) {
    const name = raw.toLowerCase();
    const notImplemented = NOT_IMPLEMENTED[name];
    if (notImplemented !== undefined) {
      throw unsupported(`modifier '${name}' is not supported: ${notImplemented}`, field);
    }
    if ((MATCH_TYPES as readonly string[]).includes(name)) {
      if (mods.match !== 'equals') {
        throw invalid(`modifiers '${mods.match}' and '${name}' exclude each other`, field);
      }
      mods.match = name as MatchType;
    } else if (name === 'all') {
      mods.all = true;
    } else if (name === 'cased') {
      mods.cased = true;
    } else if (name === 'base64' || name === 'base64offset') {
      mods.base64 = name === 'base64' ? 'plain' : 'offset';
    } else if ((ENCODINGS as readonly string[]).includes(name)) {
      if (mods.base64 !== undefined) {
        throw invalid(`modifier '${name}' must come before base64`, field);
      }
      mods.encoding = name as Encoding;
    } else if (name === 'windash') {
      mods.windash = true;
    } else if (RE_FLAGS[name] !== undefined && mods.match === 're') {
      mods.reFlags.add(RE_FLAGS[name]);
    } else {
      throw unsupported(`unknown modifier '${raw}'`, field);
    }
  }
  if (mods.encoding !== undefined && mods.base64 === undefined) {
    throw unsupported(`modifier '${mods.encoding}' without base64 has no meaning for text`, field);
  }
  if (mods.base64 === 'offset' && mods.match !== 'contains') {
    // The shifted encodings drop the unstable characters at both ends: they only make sense
    // as substrings (the Sigma specification pairs base64offset with contains).
    throw invalid(`modifier 'base64offset' needs 'contains'`, field);
  }
  const textual = mods.match === 'equals' || mods.match === 'contains';
  if (
    mods.base64 !== undefined &&
    !(textual || mods.match === 'startswith' || mods.match === 'endswith')
  ) {
    throw invalid(`modifier 'base64' cannot be combined with '${mods.match}'`, field);
  }
  if (mods.windash && !(textual || mods.match === 'startswith' || mods.match === 'endswith')) {
    throw invalid(`modifier 'windash' cannot be combined with '${mods.match}'`, field);
  }
  return mods;
}

function encode(value: string, encoding: Encoding | undefined): Buffer {
  switch (encoding) {
    case undefined:
      return Buffer.from(value, 'utf8');
    case 'wide':
    case 'utf16le':
      return Buffer.from(value, 'utf16le');
    case 'utf16be':
      return Buffer.from(value, 'utf16le').swap16();
    case 'utf16':
      // With a byte-order mark, as a program writing UTF-16 would put it first.
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(value, 'utf16le')]);
  }
}

/**
 * The three base64 texts that appear wherever `bytes` sit inside a longer encoded string, one
 * per alignment (0, 1 or 2 bytes before it), without the characters that depend on the
 * neighbouring bytes.
 */
export function base64OffsetVariants(bytes: Buffer): string[] {
  const startTrim = [0, 2, 3] as const;
  const endTrim = [0, 3, 2] as const;
  const variants: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]).toString('base64');
    const end = endTrim[(bytes.length + shift) % 3] ?? 0;
    variants.push(encoded.slice(startTrim[shift] ?? 0, encoded.length - end));
  }
  return variants;
}

const WINDASH_CHARS = ['-', '/', '\u2013', '\u2014', '\u2015'] as const;
const isWordChar = (ch: string | undefined): boolean =>
  ch !== undefined && /^[\p{L}\p{N}_]$/u.test(ch);

/**
 * `windash`: a `-` or `/` starting a word may be written with any dash Windows' command line
 * accepts. Every combination up to 125 variants; beyond that, one dash for all positions.
 */
export function windashVariants(value: string): string[] {
  const positions: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if ((ch === '-' || ch === '/') && !isWordChar(value[i - 1]) && isWordChar(value[i + 1])) {
      positions.push(i);
    }
  }
  if (positions.length === 0) return [value];
  const replaceAt = (choice: (k: number) => string): string => {
    const chars = [...value];
    positions.forEach((pos, k) => (chars[pos] = choice(k)));
    return chars.join('');
  };
  if (positions.length > 3) return WINDASH_CHARS.map((dash) => replaceAt(() => dash));
  const variants: string[] = [];
  const total = WINDASH_CHARS.length ** positions.length;
  for (let n = 0; n < total; n++) {
    variants.push(
      replaceAt(
        (k) =>
          WINDASH_CHARS[Math.floor(n / WINDASH_CHARS.length ** k) % WINDASH_CHARS.length] ?? '-',
      ),
    );
  }
  return variants;
}

function scalarText(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  throw invalid('a value must be a string, a number, a boolean or null', field);
}

/** What one item's values ask for, grouped so that literal lists are scanned in one loop. */
interface Tests {
  /** Lower-cased values compared whole, answered by one Set lookup. */
  exact: string[];
  /** Lower-cased literals for contains, startswith and endswith. */
  contains: string[];
  startsWith: string[];
  endsWith: string[];
  /** Everything else: wildcards, case-sensitive values, regular expressions, networks. */
  tests: ValueTest[];
}

const noTests = (): Tests => ({ exact: [], contains: [], startsWith: [], endsWith: [], tests: [] });

function addTests(into: Tests, from: Tests): void {
  into.exact.push(...from.exact);
  into.contains.push(...from.contains);
  into.startsWith.push(...from.startsWith);
  into.endsWith.push(...from.endsWith);
  into.tests.push(...from.tests);
}

/** True when any of `tests` holds for a present value. */
function anyOf(tests: Tests): ValueTest {
  const exact = new Set(tests.exact);
  const { contains, startsWith, endsWith, tests: others } = tests;
  const lowered = exact.size + contains.length + startsWith.length + endsWith.length > 0;
  if (!lowered && others.length === 1 && others[0] !== undefined) return others[0];
  return (v) => {
    if (lowered) {
      const lower = v.lower;
      if (exact.has(lower)) return true;
      for (const literal of contains) if (lower.includes(literal)) return true;
      for (const literal of startsWith) if (lower.startsWith(literal)) return true;
      for (const literal of endsWith) if (lower.endsWith(literal)) return true;
    }
    for (const test of others) if (test(v)) return true;
    return false;
  };
}

function compileStringValue(value: string, mods: Modifiers): Tests {
  const out = noTests();
  const variants: { text: string; literal: boolean }[] = [];
  const texts = mods.windash ? windashVariants(value) : [value];
  for (const text of texts) {
    if (mods.base64 === undefined) {
      variants.push({ text, literal: false });
    } else {
      const bytes = encode(text, mods.encoding);
      const encoded =
        mods.base64 === 'offset' ? base64OffsetVariants(bytes) : [bytes.toString('base64')];
      for (const e of encoded) variants.push({ text: e, literal: true });
    }
  }
  // Base64 text differs in meaning with case: it is compared as written.
  const caseSensitive = mods.cased || mods.base64 !== undefined;
  const where = {
    start: mods.match === 'contains' || mods.match === 'endswith',
    end: mods.match === 'contains' || mods.match === 'startswith',
  };
  for (const variant of variants) {
    const parsed = variant.literal
      ? { segments: [{ text: variant.text, ones: [] }] }
      : parseSigmaPattern(variant.text, caseSensitive);
    const literal = literalOf(parsed);
    const pick = caseSensitive ? (v: FieldText) => v.raw : (v: FieldText) => v.lower;
    if (literal !== undefined && !caseSensitive) {
      if (mods.match === 'equals') out.exact.push(literal);
      else if (mods.match === 'contains') out.contains.push(literal);
      else if (mods.match === 'startswith') out.startsWith.push(literal);
      else out.endsWith.push(literal);
      continue;
    }
    if (literal !== undefined) {
      if (mods.match === 'equals') out.tests.push((v) => v.raw === literal);
      else if (mods.match === 'contains') out.tests.push((v) => pick(v).includes(literal));
      else if (mods.match === 'startswith') out.tests.push((v) => pick(v).startsWith(literal));
      else out.tests.push((v) => pick(v).endsWith(literal));
      continue;
    }
    const test = compilePattern(widenPattern(parsed, where));
    out.tests.push((v) => test(pick(v)));
  }
  return out;
}

function compileRegex(value: string, mods: Modifiers, field: string): ValueTest {
  try {
    const re = compileLinearRegex(value, {
      caseInsensitive: mods.reFlags.has('i'),
      multiline: mods.reFlags.has('m'),
      dotAll: mods.reFlags.has('s'),
    });
    return (v) => re.test(v.raw);
  } catch (err) {
    // RE2 refuses lookaround and backreferences, which a PCRE rule may well use.
    const reason = err instanceof Error ? err.message : String(err);
    throw unsupported(`regular expression not accepted by RE2 (linear time): ${reason}`, field);
  }
}

function compileNumberTest(
  value: unknown,
  match: 'lt' | 'lte' | 'gt' | 'gte',
  field: string,
): ValueTest {
  const bound = typeof value === 'number' ? value : Number(scalarText(value, field));
  if (!Number.isFinite(bound)) throw invalid(`modifier '${match}' needs a number`, field);
  const compare = {
    lt: (n: number) => n < bound,
    lte: (n: number) => n <= bound,
    gt: (n: number) => n > bound,
    gte: (n: number) => n >= bound,
  }[match];
  return (v) => {
    const n = Number(v.raw);
    return v.raw.trim() !== '' && Number.isFinite(n) && compare(n);
  };
}

/**
 * Compiles one detection item, `Field|mod|mod: value or [values]`, into a matcher.
 * @throws MamoriError (`MAMORI_RULE_SYNTAX`) with `fault` `invalid` or `unsupported`.
 */
export function compileFieldMatcher(
  field: string,
  modifierNames: readonly string[],
  rawValue: unknown,
): FieldMatcher {
  const mods = parseModifiers(modifierNames, field);
  const values = Array.isArray(rawValue) ? (rawValue as unknown[]) : [rawValue];
  if (values.length === 0) throw invalid('a list of values must not be empty', field);

  if (mods.match === 'exists') {
    const [only, ...rest] = values;
    const expected =
      only === true || only === 'true'
        ? true
        : only === false || only === 'false'
          ? false
          : undefined;
    if (expected === undefined || rest.length > 0) {
      throw invalid(`modifier 'exists' takes true or false`, field);
    }
    return (v) => (v !== undefined) === expected;
  }

  // Empty and absent are one thing in Mamori's events (protobuf 3 defaults): `''` is `null`.
  const nullish = (value: unknown): boolean =>
    value === null || (value === '' && mods.match === 'equals');
  const hasNull = values.some(nullish);
  const tests = noTests();
  const perValue: ValueTest[] = [];
  for (const value of values) {
    if (nullish(value)) continue;
    if (Array.isArray(value) || (typeof value === 'object' && value !== null)) {
      throw invalid('a value must be a string, a number, a boolean or null', field);
    }
    const valueTests = noTests();
    if (mods.match === 're')
      valueTests.tests.push(compileRegex(scalarText(value, field), mods, field));
    else if (mods.match === 'cidr') {
      const text = scalarText(value, field);
      const inNetwork = compileCidr(text);
      if (inNetwork === undefined) throw invalid(`'${text}' is not an IP network`, field);
      valueTests.tests.push((v) => inNetwork(v.raw));
    } else if (
      mods.match === 'lt' ||
      mods.match === 'lte' ||
      mods.match === 'gt' ||
      mods.match === 'gte'
    ) {
      valueTests.tests.push(compileNumberTest(value, mods.match, field));
    } else {
      addTests(valueTests, compileStringValue(scalarText(value, field), mods));
    }
    if (mods.all) perValue.push(anyOf(valueTests));
    else addTests(tests, valueTests);
  }

  if (mods.all) {
    // Every value must hold; a null among them only holds for an absent field.
    return (v) =>
      v === undefined ? perValue.length === 0 && hasNull : !hasNull && perValue.every((t) => t(v));
  }
  const any = anyOf(tests);
  return (v) => (v === undefined ? hasNull : any(v));
}
