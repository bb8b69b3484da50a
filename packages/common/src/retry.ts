import { isRetriable } from './errors.js';

export interface BackoffOptions {
  /** First delay, in ms. @default 100 */
  initialMs?: number;
  /** Upper bound of any one delay, in ms. @default 30000 */
  maxMs?: number;
  /** Growth per attempt. @default 2 */
  factor?: number;
  /** Random source in [0, 1); injectable for tests. @default Math.random */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0-based): exponential growth capped at `maxMs`, with
 * "full jitter" (uniform in [0, cap]) so that many clients that failed together do not
 * retry together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  const cap = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.floor(random() * cap);
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, including the first. @default 5 */
  attempts?: number;
  /** Which errors to retry. @default isRetriable */
  shouldRetry?: (err: unknown) => boolean;
  signal?: AbortSignal;
}

/**
 * Runs `fn` until it succeeds, retrying errors that `shouldRetry` accepts with exponential
 * backoff and jitter. Throws the last error when attempts run out or an error is not retriable.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const shouldRetry = options.shouldRetry ?? isRetriable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= attempts || !shouldRetry(err) || options.signal?.aborted) throw err;
      await sleep(backoffDelay(attempt, options), options.signal);
    }
  }
}

/** Resolves after `ms`; rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
