import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { connectAgent, execEvent } from '@mamori/ingest/testing';
import { createEventCodec, Topics } from '@mamori/proto';
import { killHard, spawnMamori } from './support/processes.js';
import { AGENTS, readRecords } from './support/platform.js';

describe('ingest on the embedded log, killed mid-stream', () => {
  it('keeps every event it acknowledged, in order, after SIGKILL and restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-crash-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      MAMORI_BUS: 'embedded',
      MAMORI_BUS_DIR: dir,
      MAMORI_INGEST_TOKENS: JSON.stringify(AGENTS),
    };
    const ingest = await spawnMamori('ingest', env);
    onTestFinished(() => killHard(ingest.child));

    const credential = AGENTS[0];
    const agent = connectAgent(`127.0.0.1:${ingest.port}`, credential.token);
    onTestFinished(() => agent.close());
    await agent.hello(credential.agentId);

    // Keep four batches in flight and kill ingest once 25 were acknowledged, so that the
    // kill lands while batches are being written.
    const acked: string[] = [];
    const inFlight = new Map<number, string[]>();
    let seq = 0;
    const send = (): void => {
      const events = Array.from({ length: 100 }, () => execEvent());
      inFlight.set(
        ++seq,
        events.map((e) => e.id!),
      );
      agent.sendBatch(seq, events);
    };
    for (let i = 0; i < 4; i++) send();
    let next = 1;
    while (acked.length < 25 * 100) {
      const ack = await agent.ack(next);
      expect(ack.status).toBe('ACK_STATUS_ACCEPTED');
      acked.push(...inFlight.get(next)!);
      inFlight.delete(next);
      next++;
      send();
    }
    await killHard(ingest.child);

    // A new process (here, this one) opens the log: the dead process's lock is taken over,
    // a torn tail is cut, and every acknowledged event is there in the order it was sent.
    const bus = await createEmbeddedBus({ dir, logger: createSilentLogger() });
    onTestFinished(() => bus.close());
    const offsets = await bus.offsets(Topics.events);
    const total = offsets.reduce((n, p) => n + p.high - p.low, 0);
    expect(total).toBeGreaterThanOrEqual(acked.length);
    const codec = createEventCodec();
    const ids = (await readRecords(bus, Topics.events, total)).map((r) => codec.decode(r.value).id);
    expect(ids.slice(0, acked.length)).toEqual(acked);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
