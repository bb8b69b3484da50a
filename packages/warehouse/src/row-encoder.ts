import { Worker } from 'node:worker_threads';
import { ErrorCode, MamoriError, type ErrorContext } from '@mamori/common';

/** A request to the worker: events' bytes, concatenated; event i is [offsets[i], offsets[i+1]). */
export interface EncodeRequest {
  id: number;
  input: ArrayBuffer;
  offsets: Uint32Array;
}

/** The worker's answer: the rows, concatenated; row i ends at ends[i] (-1: see `errors`). */
export interface EncodeReply {
  id: number;
  output: ArrayBuffer;
  ends: Int32Array;
  errors: { index: number; code?: ErrorCode; message: string; context?: ErrorContext }[];
}

/** One event's row, or why it has none. */
export type RowOutcome = { value: Buffer } | { error: unknown };

export interface EventRowEncoder {
  /**
   * The rows of events (`encodeEventRow` of each), computed on the encoder's thread. Never
   * rejects for a bad event (its outcome is the error); rejects when the thread died.
   */
  encode(events: readonly Uint8Array[]): Promise<RowOutcome[]>;
  /** Stops the thread; encodes still pending reject. */
  close(): Promise<void>;
}

/**
 * Encodes events into rows off the calling thread, so that a service whose main thread also
 * serves requests (ingest and store in `mamori start`) spends ~4 µs less per event there.
 * The thread starts on first use and again after it died.
 */
export function createEventRowEncoder(): EventRowEncoder {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (reply: EncodeReply) => void; reject: (err: Error) => void }
  >();

  const failAll = (err: Error): void => {
    for (const { reject } of pending.values()) reject(err);
    pending.clear();
  };

  function ensureWorker(): Worker {
    if (worker) return worker;
    const started = startWorker();
    started.on('message', (reply: EncodeReply) => {
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      waiter?.resolve(reply);
    });
    started.on('error', (err) => {
      if (worker === started) worker = undefined;
      failAll(
        new MamoriError(ErrorCode.BusUnavailable, 'the row encoder thread failed', {
          cause: err,
          retriable: true,
        }),
      );
    });
    started.on('exit', () => {
      if (worker === started) worker = undefined;
      failAll(
        new MamoriError(ErrorCode.BusUnavailable, 'the row encoder thread exited', {
          retriable: true,
        }),
      );
    });
    // An idle encoder must not keep the process alive.
    started.unref();
    worker = started;
    return started;
  }

  return {
    async encode(events) {
      if (events.length === 0) return [];
      let total = 0;
      for (const event of events) total += event.length;
      const input = new ArrayBuffer(total);
      const bytes = new Uint8Array(input);
      const offsets = new Uint32Array(events.length + 1);
      let at = 0;
      for (let i = 0; i < events.length; i++) {
        bytes.set(events[i]!, at);
        at += events[i]!.length;
        offsets[i + 1] = at;
      }
      const id = nextId++;
      const target = ensureWorker();
      const reply = await new Promise<EncodeReply>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const request: EncodeRequest = { id, input, offsets };
        target.postMessage(request, [input, offsets.buffer]);
      });
      const outcomes: RowOutcome[] = [];
      const errors = new Map(reply.errors.map((e) => [e.index, e]));
      let start = 0;
      for (let i = 0; i < events.length; i++) {
        const end = reply.ends[i]!;
        if (end < 0) {
          const e = errors.get(i);
          outcomes.push({
            error: new MamoriError(e?.code ?? ErrorCode.BusDecode, e?.message ?? 'not encodable', {
              ...(e?.context ? { context: e.context } : {}),
            }),
          });
          continue;
        }
        outcomes.push({ value: Buffer.from(reply.output, start, end - start) });
        start = end;
      }
      return outcomes;
    },
    async close() {
      const current = worker;
      worker = undefined;
      if (current) await current.terminate();
      failAll(new MamoriError(ErrorCode.BusClosed, 'the row encoder is closed'));
    },
  };
}

/**
 * The worker runs row-encoder-worker.js next to this file; from TypeScript sources (tests,
 * tsx) it registers tsx first, since a worker does not inherit the loader hooks of its parent.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./row-encoder-worker.ts', here).href;
    const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, execArgv: ['--conditions=@mamori/source'] });
  }
  return new Worker(new URL('./row-encoder-worker.js', here));
}
