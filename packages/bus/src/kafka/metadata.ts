import type { Admin } from 'kafkajs';
import { kafkaErrorTypes } from './errors.js';

/** What a broker answers for a topic just created that it does not serve yet: it will. */
export const NOT_VISIBLE_YET: ReadonlySet<string> = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
]);

export type TopicMetadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/**
 * The topics' metadata once the broker serves it. A topic just created can be unknown to the
 * broker that answers, or have no leader yet, for a moment; those two are tried again, with
 * backoff (50 ms doubling to 1 s), for up to `timeoutMs`. Anything else is thrown at once.
 */
export async function visibleTopicMetadata(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: string[],
  timeoutMs: number,
): Promise<TopicMetadata> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await admin.fetchTopicMetadata({ topics });
    } catch (err) {
      const types = kafkaErrorTypes(err);
      const passing = types.length > 0 && types.every((t) => NOT_VISIBLE_YET.has(t));
      if (!passing || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
    }
  }
}
