import { ErrorCode, MamoriError, isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_HEADERS,
  createDeadLetterDecoder,
  type Bus,
  type BusRecord,
  type ConsumedBatch,
  type ProduceRecord,
  type TopicSpec,
} from '../src/index.js';

/** A bus that keeps what is produced to it; `failProduce` makes produce reject. */
function fakeBus(options: { failProduce?: boolean } = {}) {
  const produced: { topic: string; records: ProduceRecord[] }[] = [];
  const ensured: TopicSpec[][] = [];
  const bus: Pick<Bus, 'produce' | 'ensureTopics'> = {
    ensureTopics(specs) {
      ensured.push(specs);
      return Promise.resolve();
    },
    produce(topic, records) {
      if (options.failProduce) {
        return Promise.reject(
          new MamoriError(ErrorCode.BusUnavailable, 'down', { retriable: true }),
        );
      }
      produced.push({ topic, records: [...records] });
      return Promise.resolve(records.map((_, offset) => ({ topic, partition: 0, offset })));
    },
  };
  return { bus, produced, ensured };
}

function batchOf(values: string[], topic = 'events'): ConsumedBatch {
  const records: BusRecord[] = values.map((value, i) => ({
    topic,
    partition: 2,
    offset: 40 + i,
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(value),
    headers: { source: 'agent' },
    timestamp: 1_700_000_000_000 + i,
  }));
  return { topic, partition: 2, records, highWatermark: 40 + values.length };
}

const decodeJson = (record: BusRecord): unknown => JSON.parse(record.value.toString());

describe('dead-letter decoder', () => {
  it('returns the decoded records and sends undecodable ones to <topic>.dlq with their coordinates', async () => {
    const { bus, produced, ensured } = fakeBus();
    const decode = createDeadLetterDecoder({ bus, decode: decodeJson, groupId: 'detector' });

    const decoded = await decode(batchOf(['{"a":1}', 'not json', '{"a":3}']));

    expect(decoded.map((d) => d.value)).toEqual([{ a: 1 }, { a: 3 }]);
    expect(decoded.map((d) => d.record.offset)).toEqual([40, 42]);
    expect(ensured).toEqual([[{ topic: 'events.dlq', partitions: 1 }]]);
    expect(produced).toHaveLength(1);
    expect(produced[0]!.topic).toBe('events.dlq');
    const [letter] = produced[0]!.records;
    expect(letter!.key).toEqual(Buffer.from('key-1'));
    expect(letter!.value).toEqual(Buffer.from('not json'));
    expect(letter!.headers).toMatchObject({
      source: 'agent',
      [DEAD_LETTER_HEADERS.topic]: 'events',
      [DEAD_LETTER_HEADERS.partition]: '2',
      [DEAD_LETTER_HEADERS.offset]: '41',
      [DEAD_LETTER_HEADERS.timestamp]: '1700000000001',
      [DEAD_LETTER_HEADERS.groupId]: 'detector',
    });
    expect(letter!.headers![DEAD_LETTER_HEADERS.error]).toMatch(/JSON/);
    expect(letter!.timestamp).toBeUndefined();
  });

  it('takes the outcomes of a batch decoder, sending the records it refused to dead letters', async () => {
    const { bus, produced } = fakeBus();
    const seen: number[] = [];
    const decode = createDeadLetterDecoder<number>({
      bus,
      decode: () => {
        throw new Error('the per-record decoder is not used when a batch decoder is given');
      },
      decodeBatch: (records) => {
        seen.push(records.length);
        return Promise.resolve(
          records.map((record) =>
            record.value.toString() === 'bad'
              ? {
                  error: new MamoriError(ErrorCode.BusDecode, 'refused', {
                    context: { field: 'id' },
                  }),
                }
              : { value: Number(record.value.toString()) },
          ),
        );
      },
      groupId: 'store',
    });
    const decoded = await decode(batchOf(['1', 'bad', '3']));
    expect(seen).toEqual([3]);
    expect(decoded.map((d) => [d.record.offset, d.value])).toEqual([
      [40, 1],
      [42, 3],
    ]);
    expect(produced[0]!.records).toHaveLength(1);
    expect(produced[0]!.records[0]!.headers![DEAD_LETTER_HEADERS.errorCode]).toBe(
      'MAMORI_BUS_DECODE',
    );
  });

  it('sends nothing and creates no topic when every record decodes', async () => {
    const { bus, produced, ensured } = fakeBus();
    const decode = createDeadLetterDecoder({ bus, decode: decodeJson, groupId: 'g' });
    expect(await decode(batchOf(['1', '2']))).toHaveLength(2);
    expect(produced).toEqual([]);
    expect(ensured).toEqual([]);
  });

  it("records a MamoriError's code and uses a configured dead-letter topic, created once", async () => {
    const { bus, produced, ensured } = fakeBus();
    const decode = createDeadLetterDecoder({
      bus,
      groupId: 'g',
      deadLetterTopic: 'mamori.dead-letters',
      deadLetterPartitions: 3,
      decode: () => {
        throw new MamoriError(ErrorCode.BusDecode, 'bad protobuf', { context: { field: 'x' } });
      },
    });
    await decode(batchOf(['a']));
    await decode(batchOf(['b'], 'alerts'));
    expect(produced.map((p) => p.topic)).toEqual(['mamori.dead-letters', 'mamori.dead-letters']);
    expect(ensured).toEqual([[{ topic: 'mamori.dead-letters', partitions: 3 }]]);
    expect(produced[1]!.records[0]!.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.topic]: 'alerts',
      [DEAD_LETTER_HEADERS.errorCode]: 'MAMORI_BUS_DECODE',
      [DEAD_LETTER_HEADERS.error]: 'bad protobuf',
    });
  });

  it('truncates a very long error message', async () => {
    const { bus, produced } = fakeBus();
    const decode = createDeadLetterDecoder({
      bus,
      groupId: 'g',
      decode: () => {
        throw new Error('x'.repeat(5000));
      },
    });
    await decode(batchOf(['a']));
    expect(produced[0]!.records[0]!.headers![DEAD_LETTER_HEADERS.error]).toHaveLength(1000);
  });

  it('rejects when a dead letter cannot be produced, so that the batch is delivered again', async () => {
    const { bus } = fakeBus({ failProduce: true });
    const decode = createDeadLetterDecoder({ bus, decode: decodeJson, groupId: 'g' });
    let error: unknown;
    try {
      await decode(batchOf(['{}', 'broken']));
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_BUS_UNAVAILABLE')).toBe(true);
  });
});
