import { ErrorCode, MamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { toMamoriError } from '../../src/kafka/errors.js';

/** Shaped like kafkajs's errors, which this module reads by their fields. */
function kafkaJsError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, ...fields });
}

describe('toMamoriError', () => {
  it('maps an unknown topic to BusTopic, even when wrapped in a retry error', () => {
    const protocol = kafkaJsError('KafkaJSProtocolError', {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      retriable: true,
    });
    const err = toMamoriError(
      kafkaJsError('KafkaJSNumberOfRetriesExceeded', { cause: protocol }),
      'x',
      { topic: 't' },
    );
    expect(err.code).toBe(ErrorCode.BusTopic);
    expect(err.retriable).toBe(false);
    expect(err.context).toMatchObject({ topic: 't', kafkaError: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  it('finds topic errors inside the aggregate error of createTopics', () => {
    const aggregate = kafkaJsError('KafkaJSAggregateError', {
      errors: [kafkaJsError('KafkaJSCreateTopicError', { type: 'INVALID_PARTITIONS' })],
    });
    expect(toMamoriError(aggregate, 'x').code).toBe(ErrorCode.BusTopic);
  });

  it('maps group membership errors to BusGroup and oversized records to TooLarge', () => {
    expect(
      toMamoriError(kafkaJsError('KafkaJSProtocolError', { type: 'ILLEGAL_GENERATION' }), 'x').code,
    ).toBe(ErrorCode.BusGroup);
    expect(
      toMamoriError(kafkaJsError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE' }), 'x').code,
    ).toBe(ErrorCode.TooLarge);
    expect(toMamoriError(kafkaJsError('KafkaJSSASLAuthenticationError'), 'x').code).toBe(
      ErrorCode.Unauthenticated,
    );
  });

  it('makes connection failures a retriable BusUnavailable and unknown failures a final one', () => {
    const connection = toMamoriError(kafkaJsError('KafkaJSConnectionError'), 'x');
    expect(connection.code).toBe(ErrorCode.BusUnavailable);
    expect(connection.retriable).toBe(true);
    const protocol = toMamoriError(
      kafkaJsError('KafkaJSProtocolError', { type: 'NOT_ENOUGH_REPLICAS', retriable: true }),
      'x',
    );
    expect(protocol.retriable).toBe(true);
    const unknown = toMamoriError(new TypeError('bug'), 'x');
    expect(unknown.code).toBe(ErrorCode.BusUnavailable);
    expect(unknown.retriable).toBe(false);
    expect(unknown.cause).toBeInstanceOf(TypeError);
  });

  it('passes MamoriErrors through unchanged', () => {
    const original = new MamoriError(ErrorCode.BusClosed, 'closed');
    expect(toMamoriError(original, 'x')).toBe(original);
  });
});
