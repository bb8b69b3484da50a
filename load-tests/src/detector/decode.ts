/**
 * Decoding alone: protobufjs through the loader's codec (`createEventCodec().decode`) against
 * `decodeEvent`, on bench:detector's records, on this one thread. Prints one JSON object on its
 * last line. `node load-tests/dist/detector/decode.js [--events N] [--rounds R]` after a build.
 */
import { parseArgs } from 'node:util';
import { createEventCodec, decodeEvent } from '@mamori/proto';
import { positive, runMain } from '../support/args.js';
import { eventRecords } from './events.js';

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** CPU µs per event of one pass over `values`. */
function pass(decode: (bytes: Buffer) => { id: string }, values: readonly Buffer[]): number {
  let sink = 0;
  const before = cpuMicros();
  for (const value of values) sink += decode(value).id.length;
  const spent = cpuMicros() - before;
  if (sink < 0) throw new Error('unreachable');
  return spent / values.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function main(): void {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '50000' },
      rounds: { type: 'string', default: '7' },
    },
  });
  const count = positive('events', values.events);
  const rounds = positive('rounds', values.rounds);
  const records = [...eventRecords(count, 100)].map((r) => r.value);
  const codec = createEventCodec();
  const decoders = {
    protobufjs: (bytes: Buffer) => codec.decode(bytes),
    decodeEvent: (bytes: Buffer) => decodeEvent(bytes),
  };
  // The first pass of each is its warm-up (the JIT compiling, caches filling).
  const firstPass = {
    protobufjs: pass(decoders.protobufjs, records),
    decodeEvent: pass(decoders.decodeEvent, records),
  };
  const samples: Record<keyof typeof decoders, number[]> = { protobufjs: [], decodeEvent: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternating, so that noise from elsewhere on the machine falls on both.
    samples.protobufjs.push(pass(decoders.protobufjs, records));
    samples.decodeEvent.push(pass(decoders.decodeEvent, records));
  }
  const protobufjs = median(samples.protobufjs);
  const fast = median(samples.decodeEvent);
  const report = {
    benchmark: 'detector-decode',
    microsPerEvent: { protobufjs: round2(protobufjs), decodeEvent: round2(fast) },
    speedup: round2(protobufjs / fast),
    firstPassMicrosPerEvent: {
      protobufjs: round2(firstPass.protobufjs),
      decodeEvent: round2(firstPass.decodeEvent),
    },
    samples: {
      protobufjs: samples.protobufjs.map(round2),
      decodeEvent: samples.decodeEvent.map(round2),
    },
    events: count,
    meanEventBytes: Math.round(records.reduce((sum, v) => sum + v.length, 0) / count),
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

runMain('detector-decode', () => Promise.resolve().then(main));
