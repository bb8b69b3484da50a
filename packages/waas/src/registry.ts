import { cmdiDetector } from './detectors/cmdi/cmdi-detector.js';
import { ldapDetector } from './detectors/ldap/ldap-detector.js';
import { sqliDetector } from './detectors/sqli/index.js';
import { traversalDetector } from './detectors/traversal/traversal-detector.js';
import { xssDetector } from './detectors/xss/xss-detector.js';
import type { Detector } from './types.js';

/**
 * The grammar-based detectors in `detectors/`, which the inspector runs by default after the
 * built-in checks. Each exports one `Detector` (from `detectors/<name>/index.ts`, or its
 * `<name>-detector.ts` until it has an index).
 */
export const DETECTORS: readonly Detector[] = [
  sqliDetector,
  xssDetector,
  cmdiDetector,
  traversalDetector,
  ldapDetector,
];
