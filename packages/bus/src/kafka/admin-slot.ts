import type { Logger } from '@mamori/common';
import type { Admin, Kafka } from 'kafkajs';
import { closedError } from './errors.js';
import { disconnectQuietly } from './producer.js';

/**
 * One lazily connected kafkajs admin client whose calls run one at a time: a kafkajs admin
 * keeps a single metadata snapshot, and a call for one topic replaces the snapshot another
 * call is reading. reset() replaces the client (see KafkaBus on stale topics).
 */
export class AdminSlot {
  readonly #kafka: Kafka;
  readonly #retries: number;
  readonly #log: Logger;
  #admin: Promise<Admin> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(kafka: Kafka, retries: number, log: Logger) {
    this.#kafka = kafka;
    this.#retries = retries;
    this.#log = log;
  }

  /** Runs `fn` with the client once the calls queued before it are done. */
  run<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => fn(await this.#connect()));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the client; the next call connects a new one. */
  reset(): void {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin)
      void admin.then(
        (a) => disconnectQuietly(a, this.#log),
        () => undefined,
      );
  }

  /** Waits for queued calls, then disconnects; later calls fail with BusClosed. */
  async close(): Promise<void> {
    await this.#queue;
    this.#closed = true;
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin)
      await admin.then(
        (a) => disconnectQuietly(a, this.#log),
        () => undefined,
      );
  }

  #connect(): Promise<Admin> {
    if (this.#admin) return this.#admin;
    if (this.#closed) return Promise.reject(closedError('admin'));
    const admin = this.#kafka.admin({ retry: { retries: this.#retries } });
    const connecting = admin.connect().then(
      () => admin,
      async (err: unknown) => {
        if (this.#admin === connecting) this.#admin = undefined;
        await disconnectQuietly(admin, this.#log);
        throw err;
      },
    );
    this.#admin = connecting;
    return connecting;
  }
}
