/** What a finding is about: one of the attack classes the detectors know. */
export const CATEGORIES = [
  'sqli',
  'xss',
  'cmdi',
  'path-traversal',
  'lfi',
  'rfi',
  'ssrf',
  'jndi',
  'xxe',
  'nosqli',
  'ldapi',
  'crlf',
  'ssti',
  'prototype-pollution',
  'scanner',
  'protocol',
  'api-schema',
  'bot',
  'rate-limit',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** One suspicious thing in a request. */
export interface Finding {
  category: Category;
  /**
   * Where in the request: `path`, `query.<name>`, `header.<lower-case name>`,
   * `cookie.<name>`, `body.<json path or form field>`, `body` (a body as a whole).
   */
  location: string;
  /** The fragment that decided it, cut to at most 200 characters. */
  evidence: string;
  /** How sure the detector is, 0 to 1: it scales the finding's share of the score. */
  confidence: number;
  /** A short reason in words ("closes a quoted string and adds a UNION SELECT"). */
  reason: string;
}

/**
 * One value of a request as detectors see it: decoded (URL, double URL, HTML entities, unicode
 * escapes, as a browser, a shell or a SQL engine would end up reading it), with where it came
 * from.
 */
export interface InspectedValue {
  /** As in `Finding.location`. */
  location: string;
  /** The decoded value. */
  value: string;
  /** The value as received, before decoding. */
  raw: string;
  /** The parameter's (or header's, cookie's, JSON key's) name, '' for a path or a whole body. */
  name: string;
  /** What kind of place: detectors weigh places differently (a user agent is no SQL). */
  kind: 'path' | 'query' | 'header' | 'cookie' | 'body' | 'json-key';
}

/** How much a detector may flag: higher levels catch more variants and risk more false positives. */
export type Paranoia = 1 | 2 | 3 | 4;

/**
 * A detector of one or a few categories. Pure: no I/O, no state between calls. Runs on attacker
 * input, so only linear-time work (tokenizers, bounded scans, RE2); no backtracking regexes.
 */
export interface Detector {
  readonly name: string;
  readonly categories: readonly Category[];
  /** Findings in `value`, [] for none. Never throws. */
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[];
}
