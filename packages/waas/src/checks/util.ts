import type { Category, Finding, InspectedValue } from '../types.js';

/** Longest evidence kept in a finding, in characters (as `Finding.evidence` says). */
const MAX_EVIDENCE = 200;

/** A finding on `value`. */
export function finding(
  value: InspectedValue,
  category: Category,
  confidence: number,
  reason: string,
  fragment: string,
): Finding {
  return {
    category,
    location: value.location,
    evidence: fragment.slice(0, MAX_EVIDENCE),
    confidence,
    reason,
  };
}
