import { isMamoriError } from '@mamori/common';
import { createEventCodec } from '@mamori/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEventRowEncoder, encodeEventRow } from '../src/index.js';
import { execEvent, fileEvent } from '../src/testing/index.js';

const codec = createEventCodec();

describe('event row encoder (worker thread)', () => {
  it('gives the rows encodeEventRow gives, and the same errors for bad events, in order', async () => {
    const encoder = createEventRowEncoder();
    onTestFinished(() => encoder.close());
    const good = codec.encode(execEvent({ tenant: 't', args: ['sh', '-c', 'printf "a\\tb"'] }));
    const other = codec.encode(fileEvent({ tenant: 't', path: '/etc/shadow' }));
    const truncated = good.subarray(0, good.length - 3);
    const noTenant = codec.encode(execEvent({ tenant: '' }));
    const events = [good, truncated, other, noTenant];

    const outcomes = await encoder.encode(events);
    // What encoding on this thread gives, to compare with.
    const here = events.map((event) => {
      try {
        return { value: encodeEventRow(event) };
      } catch (error) {
        return { error };
      }
    });
    expect(outcomes).toHaveLength(4);
    expect(outcomes[0]).toEqual({ value: encodeEventRow(good) });
    expect(outcomes[2]).toEqual({ value: encodeEventRow(other) });
    for (const i of [1, 3]) {
      const error = (outcomes[i] as { error: unknown }).error;
      const expected = (here[i] as { error: unknown }).error;
      expect(isMamoriError(error, 'MAMORI_BUS_DECODE')).toBe(true);
      expect(error).toMatchObject({
        message: (expected as Error).message,
        context: (expected as { context: unknown }).context,
      });
    }
  });

  it('keeps answering across many batches, and answers concurrent ones each with its own rows', async () => {
    const encoder = createEventRowEncoder();
    onTestFinished(() => encoder.close());
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 50 }, (_, i) =>
        codec.encode(execEvent({ tenant: `t${b}`, id: `e${i}` })),
      ),
    );
    const results = await Promise.all(batches.map((batch) => encoder.encode(batch)));
    results.forEach((outcomes, b) => {
      expect(
        // A row starts with the tenant: its length (one byte here), then its bytes.
        outcomes.map((o) =>
          'value' in o ? o.value.subarray(1, 1 + o.value[0]!).toString() : 'error',
        ),
      ).toEqual(Array(50).fill(`t${b}`));
    });
  });

  it('rejects what is pending when closed, and starts afresh when used again', async () => {
    const encoder = createEventRowEncoder();
    const events = [codec.encode(execEvent({ tenant: 't' }))];
    expect(await encoder.encode(events)).toHaveLength(1);
    await encoder.close();
    expect(await encoder.encode(events)).toHaveLength(1);
    await encoder.close();
  });
});
