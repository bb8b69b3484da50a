import type { Bus, Consumer, ProduceRecord, ProduceResult, TopicSpec } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';
import { Topics } from '@mamori/proto';

/**
 * A Bus double for unit tests of ingest: keeps records in memory and lets a test hold writes
 * back (to see that nothing is acknowledged early) or fail them.
 */
export class MemoryBus implements Bus {
  readonly kind = 'embedded' as const;
  readonly topics = new Map<string, ProduceRecord[]>();
  /** Produce calls to the events topic seen, including held ones (agent statuses aside). */
  calls = 0;
  readonly #countedTopic: string;

  constructor(countedTopic: string = Topics.events) {
    this.#countedTopic = countedTopic;
  }
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  failNext = 0;
  /** What the injected failures throw. */
  failWith: () => Error = () =>
    new MamoriError(ErrorCode.BusUnavailable, 'injected failure', { retriable: true });

  /** Holds every produce until `release`. */
  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  records(topic: string): ProduceRecord[] {
    return this.topics.get(topic) ?? [];
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const spec of specs) if (!this.topics.has(spec.topic)) this.topics.set(spec.topic, []);
    return Promise.resolve();
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (topic === this.#countedTopic) this.calls++;
    if (this.#gate) await this.#gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw this.failWith();
    }
    const log = this.topics.get(topic);
    if (!log) throw new MamoriError(ErrorCode.BusTopic, `unknown topic ${topic}`);
    return records.map((record) => {
      log.push(record);
      return { topic, partition: 0, offset: log.length - 1 };
    });
  }

  /** A consumer that never delivers anything (ingest's policy follower reads an empty topic). */
  consumer(): Consumer {
    return {
      run: () => Promise.resolve(),
      commit: () => Promise.reject(new Error('MemoryBus consumers cannot commit')),
      assignment: () => [],
      close: () => Promise.resolve(),
    };
  }

  offsets(): Promise<never[]> {
    return Promise.resolve([]);
  }

  committed(): Promise<never[]> {
    return Promise.resolve([]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
