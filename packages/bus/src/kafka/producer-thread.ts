import { Worker } from 'node:worker_threads';
import {
  ErrorCode,
  MamoriError,
  type ErrorCode as Code,
  type ErrorContext,
  type Logger,
} from '@mamori/common';
import { partitionForKey } from '../partitioner.js';
import type { ProduceRecord, ProduceResult } from '../types.js';
import type { KafkaBusOptions } from './options.js';
import { packRecords } from './record-packing.js';

/** What the producer thread is started with: the bus options that can cross threads. */
export interface ProducerThreadSetup {
  options: Omit<KafkaBusOptions, 'logger' | 'producerThreads'>;
  /** pino level for the thread's own logger; none for silence. */
  logLevel?: string;
}

export type ProducerThreadRequest =
  { type: 'produce'; id: number; topic: string; records: ArrayBuffer } | { type: 'close' };

export type ProducerThreadReply =
  | { type: 'produced'; id: number; positions: ArrayBuffer }
  | {
      type: 'failed';
      id: number;
      error: { code?: Code; message: string; retriable?: boolean; context?: ErrorContext };
    }
  | { type: 'closed' };

interface Pending {
  topic: string;
  count: number;
  resolve: (results: ProduceResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Runs the bus's Kafka producer on a worker thread. kafkajs encodes every record on the
 * thread that sends it, and with small records that encoding, not the broker, bounds a
 * process (about 15 µs per record, half of it allocation and garbage); on its own thread it
 * no longer competes with the work of the service that produces. Each call's records are
 * packed into one transferred buffer. A thread that dies fails its calls with a retriable
 * BusUnavailable, and the next call starts a new one.
 */
export class ProducerThread {
  readonly #setup: ProducerThreadSetup;
  readonly #log: Logger;
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closing: Promise<void> | undefined;

  constructor(setup: ProducerThreadSetup, log: Logger) {
    this.#setup = setup;
    this.#log = log;
  }

  produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    const packed = packRecords(records);
    return new Promise<ProduceResult[]>((resolve, reject) => {
      this.#pending.set(id, { topic, count: records.length, resolve, reject });
      // The thread keeps the process alive only while it has work.
      worker.ref();
      const request: ProducerThreadRequest = { type: 'produce', id, topic, records: packed };
      worker.postMessage(request, [packed]);
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 30_000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.on('message', (reply: ProducerThreadReply) => {
        if (reply.type === 'closed') void worker.terminate();
      });
      const request: ProducerThreadRequest = { type: 'close' };
      worker.postMessage(request);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker(this.#setup);
    worker.unref();
    worker.on('message', (reply: ProducerThreadReply) => this.#onReply(reply));
    worker.on('error', (err) => {
      this.#log.error({ err }, 'kafka producer thread failed');
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#worker = undefined;
      const failed = [...this.#pending.values()];
      this.#pending.clear();
      for (const call of failed) {
        call.reject(
          new MamoriError(ErrorCode.BusUnavailable, 'the Kafka producer thread stopped', {
            retriable: true,
            context: { topic: call.topic, exitCode: code },
          }),
        );
      }
    });
    this.#worker = worker;
    return worker;
  }

  #onReply(reply: ProducerThreadReply): void {
    if (reply.type === 'closed') return;
    const call = this.#pending.get(reply.id);
    if (!call) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if (reply.type === 'failed') {
      const { code, message, retriable, context } = reply.error;
      call.reject(
        code === undefined
          ? new Error(message)
          : new MamoriError(code, message, {
              retriable: retriable ?? false,
              ...(context ? { context } : {}),
            }),
      );
      return;
    }
    const positions = new Float64Array(reply.positions);
    const results: ProduceResult[] = new Array<ProduceResult>(call.count);
    for (let i = 0; i < call.count; i++) {
      results[i] = {
        topic: call.topic,
        partition: positions[i * 2]!,
        offset: positions[i * 2 + 1]!,
      };
    }
    call.resolve(results);
  }
}

/**
 * The worker runs producer-worker.js next to this file; from TypeScript sources (tests, tsx)
 * it registers tsx first, since a worker does not inherit the loader hooks of its parent.
 */
function startWorker(setup: ProducerThreadSetup): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./producer-worker.ts', here).href;
    const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, {
      eval: true,
      workerData: setup,
      execArgv: ['--conditions=@mamori/source'],
    });
  }
  return new Worker(new URL('./producer-worker.js', here), { workerData: setup });
}

/**
 * Several producer threads. Every partition always goes to the same thread (partition modulo
 * threads), so records of one key keep their order; a call whose records span threads is
 * split, sent in parallel and answered in input order.
 */
export class ProducerPool {
  readonly #threads: ProducerThread[];
  readonly #partitionCount: (topic: string) => Promise<number>;
  readonly #roundRobin = new Map<string, number>();

  constructor(
    setup: ProducerThreadSetup,
    threads: number,
    partitionCount: (topic: string) => Promise<number>,
    log: Logger,
  ) {
    this.#threads = Array.from({ length: threads }, () => new ProducerThread(setup, log));
    this.#partitionCount = partitionCount;
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]> {
    if (this.#threads.length === 1) return this.#threads[0]!.produce(topic, records);
    const partitions = await this.#partitionCount(topic);
    const perThread = this.#threads.map(() => ({
      records: [] as ProduceRecord[],
      indexes: [] as number[],
    }));
    let lastKey: Buffer | undefined;
    let lastKeyPartition = 0;
    records.forEach((record, index) => {
      let partition = record.partition;
      if (partition === undefined) {
        if (record.key != null) {
          if (record.key !== lastKey) {
            lastKey = record.key;
            lastKeyPartition = partitionForKey(record.key, partitions);
          }
          partition = lastKeyPartition;
        } else {
          const next = this.#roundRobin.get(topic) ?? 0;
          this.#roundRobin.set(topic, (next + 1) % partitions);
          partition = next % partitions;
        }
      }
      const share = perThread[partition % this.#threads.length]!;
      share.records.push(record.partition === partition ? record : { ...record, partition });
      share.indexes.push(index);
    });
    const results: ProduceResult[] = new Array<ProduceResult>(records.length);
    await Promise.all(
      perThread.map(async (share, thread) => {
        if (share.records.length === 0) return;
        const produced = await this.#threads[thread]!.produce(topic, share.records);
        produced.forEach((result, i) => (results[share.indexes[i]!] = result));
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.close()));
  }
}
