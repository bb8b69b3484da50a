import { describe, expect, it } from 'vitest';
import { packRecords, unpackRecords } from '../../src/kafka/record-packing.js';

describe('record packing for the producer thread', () => {
  it('round-trips keys, null keys, values, headers, partitions and timestamps', () => {
    const shared = { kind: 'dns_query', ünïcode: 'välue' };
    const records = [
      {
        key: Buffer.from('k1'),
        value: Buffer.from('v1'),
        headers: shared,
        timestamp: 1_700_000_000_123,
      },
      { key: null, value: Buffer.alloc(0), partition: 3 },
      { key: Buffer.alloc(0), value: Buffer.from([0, 255, 1]), headers: shared },
    ];
    const unpacked = unpackRecords(packRecords(records));
    expect(unpacked).toEqual([
      {
        key: Buffer.from('k1'),
        value: Buffer.from('v1'),
        headers: shared,
        timestamp: 1_700_000_000_123,
      },
      { key: null, value: Buffer.alloc(0), partition: 3 },
      { key: Buffer.alloc(0), value: Buffer.from([0, 255, 1]), headers: shared },
    ]);
  });

  it('packs into a buffer of its own that can be transferred', () => {
    const packed = packRecords([{ key: null, value: Buffer.from('x') }]);
    const copy = structuredClone(packed, { transfer: [packed] });
    expect(packed.byteLength).toBe(0);
    expect(unpackRecords(copy)[0]?.value.toString()).toBe('x');
  });
});
