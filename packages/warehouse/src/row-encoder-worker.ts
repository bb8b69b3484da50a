/**
 * The worker side of `createEventRowEncoder`: turns a batch of events (their protobuf bytes,
 * concatenated) into RowBinary rows. Runs `appendEventRow`, nothing else.
 */
import { parentPort } from 'node:worker_threads';
import { isMamoriError } from '@mamori/common';
import { appendEventRow, createRowBuffer } from './event-row.js';
import type { EncodeReply, EncodeRequest } from './row-encoder.js';

const port = parentPort;
if (port === null) throw new Error('row-encoder-worker runs only as a worker thread');

port.on('message', (request: EncodeRequest) => {
  const input = new Uint8Array(request.input);
  const count = request.offsets.length - 1;
  // Rows are about twice an event's size (typed columns, then the bytes).
  const out = createRowBuffer(Math.max(64 * 1024, request.input.byteLength * 2 + 1024));
  const ends = new Int32Array(count);
  const errors: EncodeReply['errors'] = [];
  for (let i = 0; i < count; i++) {
    const event = input.subarray(request.offsets[i], request.offsets[i + 1]);
    try {
      appendEventRow(out, event);
      ends[i] = out.length;
    } catch (err) {
      ends[i] = -1;
      errors.push(
        isMamoriError(err)
          ? { index: i, code: err.code, message: err.message, context: { ...err.context } }
          : { index: i, message: err instanceof Error ? err.message : String(err) },
      );
    }
  }
  // A copy of exactly the rows, so that the reply transfers no unused capacity.
  const output = new ArrayBuffer(out.length);
  new Uint8Array(output).set(out.bytes.subarray(0, out.length));
  const reply: EncodeReply = { id: request.id, output, ends, errors };
  port.postMessage(reply, [output, ends.buffer]);
});
