import { describe, expect, it } from 'vitest';
import { visibleTopicMetadata, type TopicMetadata } from '../../src/kafka/metadata.js';

/** Shaped like kafkajs's protocol errors, which the module reads by their `type`. */
function protocolError(type: string): Error {
  return Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type, retriable: true });
}

const METADATA: TopicMetadata = {
  topics: [
    { name: 't', partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1] }] },
  ] as TopicMetadata['topics'],
};

/** An admin whose metadata calls fail with `failures` in turn, then answer. */
function admin(failures: Error[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    fetchTopicMetadata: () => {
      const failure = failures[calls++];
      return failure ? Promise.reject(failure) : Promise.resolve(METADATA);
    },
  };
}

describe('metadata of topics just created', () => {
  it('waits while the broker does not serve a new topic yet, or it has no leader', async () => {
    const fake = admin([
      protocolError('UNKNOWN_TOPIC_OR_PARTITION'),
      protocolError('LEADER_NOT_AVAILABLE'),
      protocolError('UNKNOWN_TOPIC_OR_PARTITION'),
    ]);
    expect(await visibleTopicMetadata(fake, ['t'], 5000)).toBe(METADATA);
    expect(fake.calls).toBe(4);
  });

  it('throws anything else at once, and those two once the time is up', async () => {
    const denied = admin([protocolError('TOPIC_AUTHORIZATION_FAILED')]);
    await expect(visibleTopicMetadata(denied, ['t'], 5000)).rejects.toThrow(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(denied.calls).toBe(1);
    const never = admin(
      Array.from({ length: 100 }, () => protocolError('UNKNOWN_TOPIC_OR_PARTITION')),
    );
    const began = Date.now();
    await expect(visibleTopicMetadata(never, ['t'], 300)).rejects.toThrow(
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    expect(Date.now() - began).toBeLessThan(2000);
    expect(never.calls).toBeGreaterThan(1);
  });
});
