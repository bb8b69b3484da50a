import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { captureLogs } from '@mamori/common/testing';
import type { Event } from '@mamori/proto';
import { expect, onTestFinished } from 'vitest';
import { buildApp, readDetectorConfig, type DetectorApp } from '../../src/index.js';
import { committedCount, produceEvents, unique } from './events.js';

/** A detector on a fresh embedded bus with topics of its own, for tests of what it follows. */
export interface Harness {
  dir: string;
  bus: EmbeddedBus;
  events: string;
  alerts: string;
  /** The compacted topics it follows, created before the detector starts. */
  policies: string;
  tuning: string;
  catalog: string;
  groupId: string;
  lines: ReturnType<typeof captureLogs>['lines'];
  /** Starts a detector with the harness's topics and `env` on top (stopped when the test ends). */
  detector(env?: Record<string, string>): Promise<DetectorApp>;
  /** Produces events and waits until the detector has committed all of them. */
  evaluate(...events: Event[]): Promise<void>;
}

/** A harness removed when the test ends. `prefix` names its temporary directory. */
export async function harness(prefix: string): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), `mamori-detector-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  onTestFinished(() => bus.close());
  const events = unique('events');
  const alerts = unique('alerts');
  const policies = unique('policies');
  const tuning = unique('tuning');
  const catalog = unique('catalog');
  const groupId = unique('detector');
  const compacted = { partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 } as const;
  await bus.ensureTopics([
    { topic: events, partitions: 2 },
    { topic: policies, ...compacted },
    { topic: tuning, ...compacted },
  ]);
  const { logger, lines } = captureLogs();
  let sent = 0;
  return {
    dir,
    bus,
    events,
    alerts,
    policies,
    tuning,
    catalog,
    groupId,
    lines,
    async detector(env = {}) {
      const config = readDetectorConfig({
        MAMORI_DATA_DIR: dir,
        MAMORI_TOPIC_EVENTS: events,
        MAMORI_TOPIC_ALERTS: alerts,
        MAMORI_TOPIC_POLICIES: policies,
        MAMORI_TOPIC_RULE_TUNING: tuning,
        MAMORI_TOPIC_RULE_CATALOG: catalog,
        MAMORI_DETECTOR_GROUP: groupId,
        MAMORI_DETECTOR_STATEFUL: 'false',
        MAMORI_EVENTS_PARTITIONS: '2',
        ...env,
      });
      const app = buildApp({ config, bus, logger, policySyncTimeoutMs: 5_000 });
      onTestFinished(() => app.stop(0));
      await app.start();
      return app;
    },
    async evaluate(...batch) {
      sent += batch.length;
      await produceEvents(bus, events, batch);
      await expect.poll(() => committedCount(bus, groupId, events)).toBe(sent);
    },
  };
}
