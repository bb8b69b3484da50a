import { afterEach, describe, expect, it } from 'vitest';
import { testKafkaBrokers } from '@mamori/common/testing';
import { connectAgent, execEvent } from '@mamori/ingest/testing';
import { createEventCodec, EventHeaders, type Event } from '@mamori/proto';
import {
  AGENTS,
  readRecords,
  startPlatform,
  type BusKind,
  type RunningPlatform,
} from './support/platform.js';

const brokers = testKafkaBrokers();
const codec = createEventCodec();
const running: RunningPlatform[] = [];
afterEach(async () => {
  for (const platform of running.splice(0)) await platform.stop();
});

const kinds: { kind: BusKind; skip: boolean }[] = [
  { kind: 'embedded', skip: false },
  { kind: 'kafka', skip: !brokers },
];

describe.each(kinds)('defender → ingest → $kind bus', ({ kind, skip }) => {
  it.skipIf(skip)(
    'delivers every event once, in order per agent, stamped with the tenant of the credential, across a reconnect',
    async () => {
      const platform = await startPlatform(kind, brokers);
      running.push(platform);
      const sent = new Map<string, string[]>();
      const BATCHES = 12;
      const PER_BATCH = 40;

      for (const credential of AGENTS) {
        const ids: string[] = [];
        sent.set(credential.agentId, ids);
        let agent = connectAgent(platform.address, credential.token);
        await agent.hello(credential.agentId);
        let lastBatch: Event[] = [];
        for (let seq = 1; seq <= BATCHES; seq++) {
          // The payload lies about its tenant; ingest must not believe it.
          lastBatch = Array.from({ length: PER_BATCH }, () =>
            execEvent({ tenant_id: 'someone-else' }),
          );
          ids.push(...lastBatch.map((e) => e.id!));
          agent.sendBatch(seq, lastBatch);
          if (seq === BATCHES / 2) {
            // Lose the connection right after an ack, and resend that batch on a new stream,
            // as an agent does when it never saw the ack.
            expect((await agent.ack(seq)).status).toBe('ACK_STATUS_ACCEPTED');
            agent.close();
            agent = connectAgent(platform.address, credential.token);
            expect((await agent.hello(credential.agentId)).welcome?.last_sequence).toBe(seq);
            agent.sendBatch(seq, lastBatch);
            expect((await agent.ack(seq)).status).toBe('ACK_STATUS_DUPLICATE');
          }
        }
        expect((await agent.ack(BATCHES, 30_000)).status).toBe('ACK_STATUS_ACCEPTED');
        agent.close();
      }

      const expected = AGENTS.length * BATCHES * PER_BATCH;
      const records = await readRecords(platform.bus, platform.config.topics.events, expected);
      expect(records).toHaveLength(expected);
      const received = new Map<string, string[]>();
      for (const record of records) {
        const event = codec.decode(record.value);
        const credential = AGENTS.find((a) => a.agentId === event.agent_id)!;
        expect(event.tenant_id).toBe(credential.tenant);
        expect(record.headers[EventHeaders.kind]).toBe('process_exec');
        expect(record.key?.toString()).toBe(`${credential.tenant}/${credential.agentId}`);
        const list = received.get(event.agent_id) ?? [];
        list.push(event.id);
        received.set(event.agent_id, list);
      }
      // Records of one key come from one partition, in offset order within it.
      for (const [agentId, ids] of sent) expect(received.get(agentId)).toEqual(ids);
    },
  );
});
