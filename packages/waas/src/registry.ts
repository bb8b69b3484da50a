import type { Detector } from './types.js';

/**
 * The grammar-based detectors in `detectors/`, which the inspector runs by default after the
 * built-in checks. Each lives in `detectors/<name>/index.ts` and exports one `Detector`.
 */
export const DETECTORS: readonly Detector[] = [];
