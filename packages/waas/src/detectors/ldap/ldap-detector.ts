import type { Detector, Finding, InspectedValue, Paranoia } from '../../types.js';

/**
 * LDAP filter injection (RFC 4515 filters), judged by parsing what the value makes of the
 * filter an application builds around it (`(uid=` + value + `)`):
 * - it composes filters: `(&(`, `(|(`, `(!(` followed by an item a server parses
 *   (`attr=value`, `attr~=`, `attr>=`, `attr<=`, an extensible `attr:rule:=`), or the absolute
 *   true/false filters `(&)` and `(|)` (RFC 4526) after a closed item;
 * - it closes the item it sits in and opens another: `)(` then an item (`*)(objectClass=*`);
 * - it is an extensible match with a matching rule (`userPassword:2.5.13.18:=x`, `cn:dn:=x`).
 * LDAP filters have no blanks between items, so prose with brackets (`Acme (UK) Ltd`,
 * `f(x) (y=2)`) does not parse as one.
 */

const BLOCK_SURE = 0.95;
const BLOCK = 0.9;
const ALERT = 0.6;

/** Lowest confidence reported at each paranoia level. */
const MIN_CONFIDENCE: Record<Paranoia, number> = { 1: 0.85, 2: 0.6, 3: 0.5, 4: 0.5 };

/** Characters of a value scanned: a filter injection sits in a short parameter. */
const MAX_SCAN = 8 * 1024;
/** Longest attribute description read (`msDS-UserPasswordExpiryTimeComputed` is 35). */
const MAX_ATTRIBUTE = 64;
/** A finding's evidence, in characters. */
const EVIDENCE_CHARS = 200;

/**
 * Attribute types of the standard user and group schemas (RFC 4519, RFC 2307, Active
 * Directory): an item naming one after a breakout is a filter, not arithmetic in prose. The
 * one-letter types (`c`, `l`, `o`) are left out: `Figure 2(a)(c=0.5)` is a caption.
 */
const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set([
  'uid',
  'cn',
  'sn',
  'ou',
  'dc',
  'st',
  'mail',
  'name',
  'title',
  'description',
  'objectclass',
  'objectcategory',
  'userpassword',
  'unicodepwd',
  'member',
  'memberof',
  'memberuid',
  'uidnumber',
  'gidnumber',
  'homedirectory',
  'loginshell',
  'gecos',
  'givenname',
  'displayname',
  'samaccountname',
  'userprincipalname',
  'distinguishedname',
  'telephonenumber',
  'useraccountcontrol',
  'admincount',
  'pwdlastset',
  'employeeid',
  'employeenumber',
  'department',
  'manager',
  'userid',
  'entrydn',
  'entryuuid',
]);

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The end of an attribute description at `at` (a keystring `ALPHA *(ALPHA / DIGIT / "-")` or
 * a numeric OID, then `;options`), or -1 when there is none.
 */
function attributeEnd(s: string, at: number): number {
  const n = Math.min(s.length, at + MAX_ATTRIBUTE);
  let i = at;
  const c = s.charCodeAt(i);
  if (isAlpha(c)) {
    i++;
    while (i < n) {
      const k = s.charCodeAt(i);
      if (isAlpha(k) || isDigit(k) || k === 45 /* - */) i++;
      else break;
    }
  } else if (isDigit(c)) {
    // numericoid: number 1*( "." number ). A bare number (`1=0`) is read as one too: payloads
    // use it for an item that is never true.
    while (i < n) {
      const k = s.charCodeAt(i);
      if (isDigit(k)) i++;
      else if (k === 46 && isDigit(s.charCodeAt(i + 1))) i++;
      else break;
    }
  } else return -1;
  while (s.charCodeAt(i) === 59 /* ; */ && isAlpha(s.charCodeAt(i + 1))) {
    i++;
    while (i < n && (isAlpha(s.charCodeAt(i)) || isDigit(s.charCodeAt(i)) || s[i] === '-')) i++;
  }
  return i;
}

/** A matching rule after `:` at `at`: a numeric OID or a keystring; its end or -1. */
function ruleEnd(s: string, at: number): number {
  const end = attributeEnd(s, at);
  return end > at ? end : -1;
}

/** What kind of item starts at `at` (just after its `(`), or null when none parses there. */
interface Item {
  attribute: string;
  /** `=`, `~=`, `>=`, `<=` or `:=` (extensible). */
  type: string;
  /** Whether the assertion value holds a `*` (presence or substrings). */
  wildcard: boolean;
  /** Whether the item's `)` is there (or the value ends, for the application's `)` to close). */
  end: number;
}

function itemAt(s: string, at: number): Item | null {
  const attrEnd = attributeEnd(s, at);
  let i: number;
  let attribute = '';
  if (attrEnd === -1) {
    // `(:dn:2.4.8.10:=x)`: an extensible match without an attribute.
    if (s.charCodeAt(at) !== 58) return null;
    i = at;
  } else {
    attribute = s.slice(at, attrEnd).toLowerCase();
    i = attrEnd;
  }
  let type: string;
  const c = s.charCodeAt(i);
  if (c === 61 /* = */) {
    type = '=';
    i++;
  } else if ((c === 126 || c === 62 || c === 60) && s.charCodeAt(i + 1) === 61) {
    type = `${s[i]}=`;
    i += 2;
  } else if (c === 58 /* : */) {
    // extensible: [":dn"] [":" matchingrule] ":="
    if (s.startsWith(':dn', i) || s.startsWith(':DN', i)) i += 3;
    if (s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) !== 61) {
      const r = ruleEnd(s, i + 1);
      if (r === -1) return null;
      i = r;
    }
    if (s.charCodeAt(i) !== 58 || s.charCodeAt(i + 1) !== 61) return null;
    if (attribute === '' && i === at) return null;
    type = ':=';
    i += 2;
  } else return null;
  // The assertion value: up to an unescaped `)` (or `(`, which ends it in lenient parsers).
  let wildcard = false;
  const n = Math.min(s.length, i + MAX_SCAN);
  while (i < n) {
    const k = s.charCodeAt(i);
    if (k === 41 /* ) */ || k === 40 /* ( */) break;
    if (k === 42 /* * */) wildcard = true;
    i++;
  }
  return { attribute, type, wildcard, end: i };
}

interface Verdict {
  confidence: number;
  reason: string;
  at: number;
}

function judge(s: string): Verdict | null {
  let best: Verdict | null = null;
  const consider = (confidence: number, reason: string, at: number): void => {
    if (!best || confidence > best.confidence) best = { confidence, reason, at };
  };
  const n = Math.min(s.length, MAX_SCAN);
  // A whole value that is an extensible match with a rule: `attr:rule:=x`, `attr:dn:=x`.
  const whole = s.indexOf(':=') === -1 ? null : itemAt(s, 0);
  if (whole && whole.type === ':=' && whole.end === s.length) {
    consider(BLOCK, 'is an LDAP extensible match with a matching rule', 0);
  }
  // A `)` the value did not open closes the application's item: a breakout. One it opened
  // (`Filter: (&(objectClass=person)(mail=*))` quoted in a question) is part of its own text.
  let depth = 0;
  let breakoutAt = -2;
  let lead = 0;
  while (lead < n && (s.charCodeAt(lead) <= 32 || s.charCodeAt(lead) === 42)) lead++;
  for (let open = 0; open < n; open++) {
    const c = s.charCodeAt(open);
    if (c === 41 /* ) */) {
      if (depth > 0) depth--;
      else breakoutAt = open;
      continue;
    }
    if (c !== 40 /* ( */) continue;
    const afterBreakout = breakoutAt === open - 1;
    depth++;
    if (!afterBreakout && open !== lead) continue;
    const op = s.charCodeAt(open + 1);
    if ((op === 38 || op === 124 || op === 33) /* & | ! */ && s.charCodeAt(open + 2) === 40) {
      const item = itemAt(s, open + 3);
      if (item) {
        consider(BLOCK_SURE, `composes LDAP filters with "${s[open + 1]}"`, open);
        break;
      }
    }
    if (!afterBreakout) continue;
    // The value's own `(` after a breakout opens the application's next item.
    depth = 0;
    const next = s.charCodeAt(open + 2);
    if ((op === 38 || op === 124) && (next === 41 || open + 2 === s.length)) {
      // `)(&)` / `)(|)`: the absolute true and false filters after a closed item (the
      // application's own `)` closes a trailing `)(&`).
      consider(BLOCK, `closes the filter item and adds the absolute filter (${s[open + 1]})`, open);
      continue;
    }
    // Lenient parsers take `)((|attr=…` as `)(|(attr=…`: extra `(` and an operator skipped.
    let at = open + 1;
    while (at < n && at - open < 4 && (s[at] === '(' || s[at] === '&' || s[at] === '|')) at++;
    const item = itemAt(s, at);
    if (item) {
      const known = KNOWN_ATTRIBUTES.has(item.attribute);
      // `*)(`: the value closed was a wildcard (every entry matches), or the new item is one.
      const wildcard = item.wildcard || s.charCodeAt(open - 2) === 42;
      consider(
        known && wildcard ? BLOCK_SURE : known || wildcard || item.type === ':=' ? BLOCK : ALERT,
        `closes the filter item and adds "(${item.attribute}${item.type}…"`,
        open - 1,
      );
    }
  }
  return best;
}

/** LDAP filter injection; see the module comment. Never throws. */
export const ldapDetector: Detector = {
  name: 'ldap',
  categories: ['ldapi'],
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[] {
    const s = value.value;
    // Every signal needs `(` or `:=`.
    if (s.indexOf('(') === -1 && s.indexOf(':=') === -1) return [];
    let verdict: Verdict | null;
    try {
      verdict = judge(s);
    } catch {
      return [];
    }
    if (!verdict || verdict.confidence < MIN_CONFIDENCE[paranoia]) return [];
    return [
      {
        category: 'ldapi',
        location: value.location,
        evidence: s.slice(verdict.at, verdict.at + EVIDENCE_CHARS),
        confidence: verdict.confidence,
        reason: verdict.reason,
      },
    ];
  },
};
