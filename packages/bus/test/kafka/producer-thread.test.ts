import { ErrorCode, isMamoriError, createSilentLogger } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { ProducerThread } from '../../src/kafka/producer-thread.js';
import { errorOf } from '../rejections.js';

describe('Kafka producer thread', () => {
  it('fails the calls of a thread that dies with a retriable BusUnavailable, and starts a new one for the next call', async () => {
    // No brokers: the thread's own bus refuses its options and the thread exits.
    const thread = new ProducerThread({ options: { brokers: [] } }, createSilentLogger());
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await errorOf(thread.produce('t', [{ key: null, value: Buffer.from('v') }]));
      expect(isMamoriError(err, ErrorCode.BusUnavailable)).toBe(true);
      expect((err as { retriable: boolean }).retriable).toBe(true);
    }
    await thread.close();
  });
});
