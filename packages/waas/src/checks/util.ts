import type { Category, Finding, InspectedValue } from '../types.js';

/** Longest evidence kept in a finding, in characters (as `Finding.evidence` says). */
export const MAX_EVIDENCE = 200;

/** Evidence around `at` in `text`: the fragment that decided, cut to {@link MAX_EVIDENCE}. */
export function evidence(text: string, at = 0, length = MAX_EVIDENCE): string {
  const start = Math.max(0, Math.min(at, text.length - 1));
  return text.slice(start, start + Math.min(length, MAX_EVIDENCE));
}

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
