import { describe, expect, it } from 'vitest';
import { createEventCodec, type Event } from '@mamori/proto';
import { validateBatch, type ValidationLimits } from '../../src/validation/batch.js';
import { createAgentMessageDeserializer } from '../../src/wire/agent-message.js';

const NOW = 1_764_000_000_000_000;
const limits: ValidationLimits = {
  maxBatchEvents: 1000,
  maxEventBytes: 64 * 1024,
  maxIdLength: 128,
  maxFutureMicros: 300_000_000,
  maxAgeMicros: 3_600_000_000,
  maxLabels: 64,
};

/** A small deterministic PRNG (xorshift32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const samples: Event[] = [
  {
    id: 'exec-1',
    observed_unix_micros: NOW,
    workload: { container_id: 'c1', image_digest: 'sha256:00', pod_labels: { app: 'portal' } },
    labels: { sensor: 'proc' },
    process_exec: {
      process: {
        pid: 7,
        exe: '/bin/sh',
        args: ['sh', '-c', 'id'],
        ancestors: [{ pid: 1, name: 'init' }],
      },
    },
  },
  {
    id: 'net-1',
    observed_unix_micros: NOW,
    network_connect: {
      process: { pid: 9 },
      connection: { protocol: 'L4_PROTOCOL_TCP', remote_address: '10.0.0.1', remote_port: 443 },
    },
  },
  {
    id: 'http-1',
    observed_unix_micros: NOW,
    http_request: {
      method: 'POST',
      url: '/login',
      headers: [{ name: 'host', value: 'x' }],
      body: Buffer.from('a=1'),
    },
  },
];

describe('ingest on hostile bytes', () => {
  it('answers every mutated event with acceptance or a rejection naming a field, and never throws', () => {
    const codec = createEventCodec();
    const next = random(20261128);
    const originals = samples.map((event) => codec.encode(event));
    let rejected = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(originals[round % originals.length]!);
      const mutations = 1 + Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(next() * bytes.length);
        const kind = next();
        if (kind < 0.6) bytes[at] = Math.floor(next() * 256);
        else if (kind < 0.8) bytes[at] = bytes[at]! ^ 0x80;
        else bytes[at] = 0xff;
      }
      const cut = next() < 0.2 ? Math.floor(next() * bytes.length) : bytes.length;
      const verdict = validateBatch(
        {
          sequence: 1,
          events: [bytes.subarray(0, cut)],
          bytes: cut,
          droppedLow: 0,
          droppedHigh: 0,
        },
        limits,
        NOW,
      );
      expect(verdict.valid.length + verdict.rejections.length).toBe(1);
      for (const rejection of verdict.rejections) {
        expect(rejection.field).toMatch(/^events\[0\]/);
        expect(rejection.reason).not.toBe('');
        rejected++;
      }
    }
    // The mutations do break events: most are refused, so the check above is exercised.
    expect(rejected).toBeGreaterThan(1000);
  });

  it('turns garbage agent messages into an "invalid" reason instead of an exception', () => {
    const deserialize = createAgentMessageDeserializer();
    const next = random(7);
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.alloc(Math.floor(next() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      const message = deserialize(bytes);
      expect(['hello', 'batch', 'command_result', 'invalid']).toContain(message.message);
      if (message.message === 'invalid') expect(message.reason).not.toBe('');
    }
  });
});
