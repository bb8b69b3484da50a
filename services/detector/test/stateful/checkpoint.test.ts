import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEmbeddedBus,
  partitionForKey,
  type Bus,
  type BusRecord,
  type EmbeddedBus,
} from '@mamori/bus';
import { captureLogs } from '@mamori/common/testing';
import type { Event } from '@mamori/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp, readDetectorConfig, type DetectorApp } from '../../src/index.js';
import { CHECKPOINT_OFFSET_HEADER } from '../../src/bus/checkpoints.js';
import {
  committedCount,
  connectEvent,
  produceConnects,
  readAlerts,
  unique,
} from '../support/events.js';
import { hookedBus, type BusHooks } from '../support/bus.js';

const S = 1_000_000;

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-detector-state-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const names = {
    events: unique('events'),
    alerts: unique('alerts'),
    state: unique('state'),
    groupId: unique('detector'),
  };
  const { logger, lines } = captureLogs();
  let bus: EmbeddedBus | undefined;
  const open = async (): Promise<EmbeddedBus> => {
    bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
    const opened = bus;
    onTestFinished(() => opened.close());
    return opened;
  };
  await open();
  await bus!.ensureTopics([{ topic: names.events, partitions: 2 }]);
  return {
    ...names,
    lines,
    get bus(): EmbeddedBus {
      return bus!;
    },
    /** Closes the log and opens it again, as a new process would. */
    async reopen(): Promise<void> {
      await bus!.close();
      await open();
    },
    async detector(options: { hooks?: BusHooks; env?: Record<string, string> } = {}) {
      const config = readDetectorConfig({
        MAMORI_DATA_DIR: dir,
        MAMORI_TOPIC_EVENTS: names.events,
        MAMORI_TOPIC_ALERTS: names.alerts,
        MAMORI_TOPIC_DETECTOR_STATE: names.state,
        MAMORI_DETECTOR_GROUP: names.groupId,
        MAMORI_EVENTS_PARTITIONS: '2',
        MAMORI_DETECTOR_WATCH: 'false',
        // After every batch unless a test says otherwise: most look at each batch's commit.
        MAMORI_DETECTOR_CHECKPOINT_MS: '0',
        ...options.env,
      });
      const app: DetectorApp = buildApp({
        config,
        bus: hookedBus(bus!, options.hooks ?? {}),
        logger,
      });
      onTestFinished(() => app.stop(0));
      await app.start();
      return app;
    },
  };
}

/** A scan of `count` distinct ports of 10.0.0.7 from the portal container, 2 s apart. */
function burst(from: number, count: number, start = 1_700_000_000 * S): Event[] {
  return Array.from({ length: count }, (_, i) =>
    connectEvent({ port: from + i, micros: start + (from + i) * 2 * S }),
  );
}

/** Every record of a one-partition topic. */
async function readAll(bus: Bus, topic: string): Promise<BusRecord[]> {
  const [{ high } = { high: 0 }] = await bus.offsets(topic);
  const seen: BusRecord[] = [];
  const consumer = bus.consumer({ groupId: unique('reader'), topics: [topic] });
  await consumer.run((batch) => {
    seen.push(...batch.records);
    return Promise.resolve();
  });
  await expect.poll(() => seen.length).toBe(high);
  await consumer.close();
  return seen;
}

/** Bus hooks that refuse the first produce to the alerts topic; `refused` counts the tries. */
function refusingFirstAlerts(alerts: string): { hooks: BusHooks; refused: () => number } {
  let tries = 0;
  return {
    hooks: {
      beforeProduce(topic) {
        if (topic === alerts && tries++ === 0) {
          return Promise.reject(new Error('bus unavailable (test)'));
        }
        return Promise.resolve();
      },
    },
    refused: () => tries,
  };
}

/** The value of a detector counter without labels, from the metrics text. */
function counted(text: string, name: string): number {
  const match = new RegExp(`^mamori_detector_${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

const portScans = async (bus: Bus, topic: string) =>
  (await readAlerts(bus, topic)).filter(({ alert }) => alert.rule_id === 'mamori:Port scan');

describe('detector stateful rules on the bus', () => {
  it('alerts once on the 15th port when a detector stopped after 10 ports is followed by a new one on the same log', async () => {
    const h = await setup();
    const events = burst(1, 15);
    const first = await h.detector();
    await produceConnects(h.bus, h.events, events.slice(0, 10));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(10);
    expect(await portScans(h.bus, h.alerts)).toEqual([]);
    expect(await first.metrics.registry.metrics()).toMatch(
      /^mamori_detector_stateful_keys\{rule="mamori:Port scan"\} 1$/m,
    );
    await first.stop();

    await h.reopen();
    const second = await h.detector();
    await produceConnects(h.bus, h.events, events.slice(10));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(15);
    const alerts = await portScans(h.bus, h.alerts);
    expect(alerts.map(({ alert }) => alert.event_id)).toEqual([events[14]!.id]);
    expect(alerts[0]!.alert.details['port_count']).toBe('15');
    expect(alerts[0]!.key).toBe('city-a/node-1');
    expect(h.lines.some((line) => line.msg === 'stateful rules resume from their checkpoint')).toBe(
      true,
    );
    expect(await second.metrics.registry.metrics()).toMatch(
      /^mamori_detector_state_restores_total\{result="checkpoint"\} 1$/m,
    );
    // The checkpoint record: keyed <group>/<events topic>/<partition>, covering offset 15.
    const partition = partitionForKey(Buffer.from('city-a/node-1'), 2);
    const records = await readAll(h.bus, h.state);
    const last = records.at(-1)!;
    expect(last.key?.toString()).toBe(`${h.groupId}/${h.events}/${partition}`);
    expect(last.headers[CHECKPOINT_OFFSET_HEADER]).toBe('15');
    expect(JSON.parse(last.value.toString())).toMatchObject({ format: 1, offset: 15 });
  });

  it('replaying a burst whose commit was lost after its alert yields the same alert id, never a different one', async () => {
    const h = await setup();
    const events = burst(1, 15);
    const first = await h.detector();
    await produceConnects(h.bus, h.events, events.slice(0, 10));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(10);
    await first.stop();
    // The next detector produces the alert, writes its checkpoint, then its commit is lost.
    const crashing = await h.detector({
      hooks: { beforeCommit: () => Promise.reject(new Error('crashed before commit (test)')) },
    });
    await produceConnects(h.bus, h.events, events.slice(10));
    await expect.poll(async () => (await portScans(h.bus, h.alerts)).length).toBe(1);
    await crashing.stop(5_000);
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(10);

    await h.reopen();
    const third = await h.detector();
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(15);
    const alerts = await portScans(h.bus, h.alerts);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.alert.id).toBe(alerts[0]!.alert.id);
    expect(alerts[1]!.alert.event_id).toBe(events[14]!.id);
    // It resumed from the checkpoint of offset 10, not from the later one of the lost commit.
    expect(await third.metrics.registry.metrics()).toMatch(
      /^mamori_detector_state_restores_total\{result="checkpoint"\} 1$/m,
    );
  });

  it('starts empty, logged and counted, when no checkpoint matches the offset consumption resumes from', async () => {
    const h = await setup();
    const events = burst(1, 15);
    const crashing = await h.detector({
      hooks: { beforeCommit: () => Promise.reject(new Error('crashed before commit (test)')) },
    });
    await produceConnects(h.bus, h.events, events);
    await expect.poll(async () => (await portScans(h.bus, h.alerts)).length).toBe(1);
    await crashing.stop(5_000);

    const next = await h.detector();
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(15);
    expect(
      h.lines.filter(
        (line) =>
          line.msg ===
          'stateful rules start empty: no checkpoint of the offset consumption resumes from',
      ),
    ).toContainEqual(expect.objectContaining({ offset: 0, checkpointOffset: 15 }));
    expect(await next.metrics.registry.metrics()).toMatch(
      /^mamori_detector_state_restores_total\{result="mismatch"\} 1$/m,
    );
    // Evaluated again from empty: the same alert again, with the same id.
    const ids = (await portScans(h.bus, h.alerts)).map(({ alert }) => alert.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });

  it('a partition moving to another detector of the group keeps its window', async () => {
    const h = await setup();
    const events = burst(1, 15);
    const a = await h.detector();
    await produceConnects(h.bus, h.events, events.slice(0, 10));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(10);
    const b = await h.detector();
    await a.stop();
    await produceConnects(h.bus, h.events, events.slice(10));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(15);
    expect((await portScans(h.bus, h.alerts)).map(({ alert }) => alert.event_id)).toEqual([
      events[14]!.id,
    ]);
    expect(await b.metrics.registry.metrics()).toMatch(
      /^mamori_detector_state_restores_total\{result="checkpoint"\} [1-9]/m,
    );
  });

  it('raises the alert once when its first produce is refused and the batch comes again', async () => {
    const h = await setup();
    const refusing = refusingFirstAlerts(h.alerts);
    await h.detector({ hooks: refusing.hooks });
    const events = burst(1, 15);
    await produceConnects(h.bus, h.events, events);
    await expect
      .poll(() => committedCount(h.bus, h.groupId, h.events), { timeout: 10_000 })
      .toBe(15);
    expect(refusing.refused()).toBe(2);
    expect((await portScans(h.bus, h.alerts)).map(({ alert }) => alert.event_id)).toEqual([
      events[14]!.id,
    ]);
  });

  it('checkpoints and commits once per interval, not after every batch, and what is left when it stops', async () => {
    const h = await setup();
    const events = burst(1, 15);
    const slow = { MAMORI_DETECTOR_CHECKPOINT_MS: '60000', MAMORI_DETECTOR_BATCH_EVENTS: '2' };
    const first = await h.detector({ env: slow });
    await produceConnects(h.bus, h.events, events.slice(0, 10));
    await expect
      .poll(async () => counted(await first.metrics.registry.metrics(), 'events_evaluated_total'))
      .toBe(10);
    // Five batches evaluated, none checkpointed or committed yet: the interval has not passed.
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);
    expect(counted(await first.metrics.registry.metrics(), 'checkpoints_total')).toBe(0);
    await first.stop();
    // Stopping checkpoints what was evaluated, once, and commits it.
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(10);
    expect(counted(await first.metrics.registry.metrics(), 'checkpoints_total')).toBe(1);

    const second = await h.detector({ env: { MAMORI_DETECTOR_CHECKPOINT_MS: '100' } });
    await produceConnects(h.bus, h.events, events.slice(10));
    // The timer checkpoints and commits the end of a burst without waiting for more events.
    await expect
      .poll(() => committedCount(h.bus, h.groupId, h.events), { timeout: 5_000 })
      .toBe(15);
    expect((await portScans(h.bus, h.alerts)).map(({ alert }) => alert.event_id)).toEqual([
      events[14]!.id,
    ]);
    expect(await second.metrics.registry.metrics()).toMatch(
      /^mamori_detector_state_restores_total\{result="checkpoint"\} 1$/m,
    );
    expect(
      counted(await second.metrics.registry.metrics(), 'checkpoint_bytes_total'),
    ).toBeGreaterThan(0);
  });

  it('rebuilds the state from its last checkpoint and the events since when a produce is refused', async () => {
    const h = await setup();
    const refusing = refusingFirstAlerts(h.alerts);
    const app = await h.detector({
      env: { MAMORI_DETECTOR_CHECKPOINT_MS: '60000', MAMORI_DETECTOR_BATCH_EVENTS: '3' },
      hooks: refusing.hooks,
    });
    const events = burst(1, 15);
    // Four batches of three before the one with the 15th port: only in memory, not checkpointed.
    await produceConnects(h.bus, h.events, events);
    await expect.poll(() => refusing.refused(), { timeout: 10_000 }).toBe(2);
    // The batch came again and was evaluated from the state before it: 12 ports then, so the
    // 15th still crosses, once. (From the failed batch's own state it would not fire again;
    // from the checkpoint alone, empty, it would see 3 ports.)
    expect((await portScans(h.bus, h.alerts)).map(({ alert }) => alert.event_id)).toEqual([
      events[14]!.id,
    ]);
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);
    await app.stop();
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(15);
  });

  it('with MAMORI_DETECTOR_STATEFUL=false raises no port scan and writes no checkpoint', async () => {
    const h = await setup();
    await h.detector({ env: { MAMORI_DETECTOR_STATEFUL: 'false' } });
    await produceConnects(h.bus, h.events, burst(1, 15));
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(15);
    expect(await portScans(h.bus, h.alerts)).toEqual([]);
    await expect(h.bus.offsets(h.state)).rejects.toThrow();
  });
});
