/** Percentile (0–100) of unsorted samples, nearest-rank; 0 for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50, p90, p95, p99 and max of samples, rounded to 0.1. */
export function summarize(samples: readonly number[]): {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
} {
  const round = (n: number): number => Math.round(n * 10) / 10;
  return {
    p50: round(percentile(samples, 50)),
    p90: round(percentile(samples, 90)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    max: round(percentile(samples, 100)),
  };
}
