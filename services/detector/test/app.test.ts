import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, DEAD_LETTER_HEADERS, type EmbeddedBus } from '@mamori/bus';
import { describe, expect, it, onTestFinished } from 'vitest';
import { alertId, buildApp, readDetectorConfig, type DetectorApp } from '../src/index.js';
import { captureLogs } from '@mamori/common/testing';
import {
  committedCount,
  harmlessEvent,
  minerEvent,
  PORTAL,
  produceEvents,
  readAlerts,
  unique,
  webRequestEvent,
} from './support/events.js';
import { hookedBus, type BusHooks } from './support/bus.js';

/** A promise and its resolver (Node 20 has no Promise.withResolvers). */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

interface Harness {
  dir: string;
  bus: EmbeddedBus;
  events: string;
  alerts: string;
  groupId: string;
  rulesFile: string;
  lines: ReturnType<typeof captureLogs>['lines'];
  /** A detector on the harness's bus and topics; stopped when the test ends. */
  detector(options?: { hooks?: BusHooks; env?: Record<string, string> }): Promise<DetectorApp>;
}

const LS_RULE = `- rule: Directory listed
  desc: ls ran
  condition: evt.type = execve and proc.name = ls
  output: Directory listed (cmdline=%proc.cmdline)
  priority: NOTICE
  tags: [test]
`;

async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-detector-app-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  onTestFinished(() => bus.close());
  const events = unique('events');
  const alerts = unique('alerts');
  const groupId = unique('detector');
  await bus.ensureTopics([{ topic: events, partitions: 2 }]);
  const rulesFile = join(dir, 'local_rules.yaml');
  writeFileSync(rulesFile, '[]\n');
  const { logger, lines } = captureLogs();
  return {
    dir,
    bus,
    events,
    alerts,
    groupId,
    rulesFile,
    lines,
    async detector({ hooks = {}, env = {} } = {}) {
      const config = readDetectorConfig({
        MAMORI_DATA_DIR: dir,
        MAMORI_TOPIC_EVENTS: events,
        MAMORI_TOPIC_ALERTS: alerts,
        MAMORI_DETECTOR_GROUP: groupId,
        MAMORI_DETECTOR_RULES: rulesFile,
        MAMORI_EVENTS_PARTITIONS: '2',
        // A checkpoint and a commit after every batch: these tests look at each batch's commit.
        MAMORI_DETECTOR_CHECKPOINT_MS: '0',
        ...env,
      });
      const app = buildApp({
        config,
        bus: hookedBus(bus, hooks),
        logger,
        watchDebounceMs: 20,
      });
      onTestFinished(() => app.stop(0));
      await app.start();
      return app;
    },
  };
}

describe('detector app', () => {
  it('raises exactly one alert for a miner among harmless events, keyed by tenant and agent, and commits everything', async () => {
    const h = await harness();
    const app = await h.detector();
    const miner = minerEvent();
    const sent = [harmlessEvent(), miner, harmlessEvent()];
    await produceEvents(h.bus, h.events, sent);

    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(3);
    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.key).toBe('city-a/node-1');
    expect(alerts[0]!.alert).toMatchObject({
      id: alertId('mamori:Crypto miner started', 'city-a', 'node-1', miner.id!),
      tenant_id: 'city-a',
      agent_id: 'node-1',
      event_id: miner.id,
      observed_unix_micros: miner.observed_unix_micros,
      rule_id: 'mamori:Crypto miner started',
      rule_name: 'Crypto miner started',
      severity: 'SEVERITY_CRITICAL',
      hostname: 'node-1.city-a',
      workload: PORTAL,
      title: expect.stringContaining('cmdline=xmrig -o stratum+tcp://pool.example.net:3333'),
    });
    expect(app.readiness()).toEqual({ ready: true });
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toMatch(/^mamori_detector_events_evaluated_total 3$/m);
    expect(metrics).toMatch(
      /^mamori_detector_alerts_produced_total\{rule="mamori:Crypto miner started",severity="critical"\} 1$/m,
    );
  });

  it('raises "Web request blocked" for a request the WAAS proxy refused, and nothing for a clean sample', async () => {
    const h = await harness();
    const app = await h.detector();
    const sample = webRequestEvent({ action: 'allow', sampled: true }, '/');
    const blocked = webRequestEvent({
      action: 'block',
      enforced: true,
      score: '11.4',
      categories: 'sqli,xss',
      locations: 'query.q',
      reason: 'SQL tautology',
      policy: 'portal-web',
    });
    await produceEvents(h.bus, h.events, [sample, blocked]);

    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(2);
    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.key).toBe('city-a/node-1');
    expect(alerts[0]!.alert).toMatchObject({
      id: alertId('mamori:Web request blocked', 'city-a', 'node-1', blocked.id!),
      event_id: blocked.id,
      rule_id: 'mamori:Web request blocked',
      rule_name: 'Web request blocked',
      severity: 'SEVERITY_MEDIUM',
      workload: PORTAL,
      title:
        "Web request blocked (method=GET host=portal.example.gov url=/search?q=1'%20or%20'1'='1 client=203.0.113.9 score=11.4 categories=sqli,xss locations=query.q reason=SQL tautology policy=portal-web)",
      tags: expect.arrayContaining(['waas', 'T1190']),
      details: expect.objectContaining({
        'http.client_ip': '203.0.113.9',
        'waas.categories': 'sqli,xss',
      }),
    });
    // Both requests were decoded and evaluated: web requests are no longer skipped unread.
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toMatch(/^mamori_detector_events_evaluated_total 2$/m);
    expect(metrics).not.toMatch(/^mamori_detector_events_skipped_total [1-9]/m);
  });

  it('does not commit an offset whose alerts the bus has not acknowledged', async () => {
    const h = await harness();
    // The first produce of alerts is held, then refused; the second is held, then let through.
    const gates = [gate(), gate()];
    let produceCalls = 0;
    const app = await h.detector({
      hooks: {
        async beforeProduce(topic) {
          if (topic !== h.alerts) return;
          const call = produceCalls++;
          await gates[call]?.promise;
          if (call === 0) throw new Error('bus unavailable (test)');
        },
      },
    });
    await produceEvents(h.bus, h.events, [minerEvent(), harmlessEvent()]);
    await expect.poll(() => produceCalls).toBe(1);
    // The alert is held: nothing of its batch is committed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);
    // The bus refuses it: nothing committed, not ready, and the batch comes again.
    gates[0]!.resolve();
    await expect.poll(() => produceCalls, { timeout: 10_000 }).toBe(2);
    expect(app.readiness()).toEqual({
      ready: false,
      reason: 'alerts not acknowledged, retrying: bus unavailable (test)',
    });
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);
    gates[1]!.resolve();
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(2);
    expect(await readAlerts(h.bus, h.alerts)).toHaveLength(1);
    expect(app.readiness()).toEqual({ ready: true });
    expect(await app.metrics.registry.metrics()).toMatch(
      /^mamori_detector_produce_failures_total 1$/m,
    );
  });

  it('evaluates the next batch while a commit is pending, and stop waits for that commit', async () => {
    const h = await harness();
    const held = gate();
    let commits = 0;
    const app = await h.detector({
      hooks: {
        async beforeCommit() {
          // The first commit is held until released; the ones after it wait behind it.
          if (commits++ === 0) await held.promise;
        },
      },
      // One record a batch, so that a second batch exists while the first commit is held.
      env: { MAMORI_DETECTOR_BATCH_EVENTS: '1' },
    });
    await produceEvents(h.bus, h.events, [harmlessEvent(), minerEvent(), harmlessEvent()]);
    // The miner's alert is produced while the first commit is still held.
    await expect.poll(() => readAlerts(h.bus, h.alerts).then((a) => a.length)).toBe(1);
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);
    let stopped = false;
    const stopping = app.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stopped).toBe(false);
    held.resolve();
    await stopping;
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(3);
  });

  it('sends an undecodable record and an event without tenant to dead letters and still evaluates the next one', async () => {
    const h = await harness();
    const app = await h.detector();
    await h.bus.produce(h.events, [
      { key: Buffer.from('city-a/node-1'), value: Buffer.from([0x0a, 0xff, 0x01]), partition: 0 },
    ]);
    await produceEvents(h.bus, h.events, [minerEvent({ tenant_id: '' })]);
    const miner = minerEvent();
    await produceEvents(h.bus, h.events, [miner]);

    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(3);
    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts.map(({ alert }) => alert.event_id)).toEqual([miner.id]);
    const dead = await h.bus.offsets(`${h.events}.dlq`);
    expect(dead.reduce((sum, { high }) => sum + high, 0)).toBe(2);
    const warnings = h.lines.filter(
      (line) => line.msg === 'undecodable record sent to dead letters',
    );
    expect(warnings.map((line) => line[DEAD_LETTER_HEADERS.groupId] ?? line['groupId'])).toEqual([
      h.groupId,
      h.groupId,
    ]);
    expect(await app.metrics.registry.metrics()).toMatch(/^mamori_detector_dead_letters_total 2$/m);
  });

  it('after a crash before the commit, a restart evaluates the events again and raises the same alert id', async () => {
    const h = await harness();
    const first = await h.detector({
      hooks: { beforeCommit: () => Promise.reject(new Error('crashed before commit (test)')) },
    });
    const miner = minerEvent();
    await produceEvents(h.bus, h.events, [miner, harmlessEvent()]);
    await expect.poll(async () => (await readAlerts(h.bus, h.alerts)).length).toBe(1);
    await first.stop(0);
    expect(await committedCount(h.bus, h.groupId, h.events)).toBe(0);

    await h.detector();
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(2);
    const alerts = await readAlerts(h.bus, h.alerts);
    expect(alerts).toHaveLength(2);
    const id = alertId('mamori:Crypto miner started', 'city-a', 'node-1', miner.id!);
    expect(alerts.map(({ alert }) => alert.id)).toEqual([id, id]);
  });

  it('swaps rules while running when a rule file changes, and keeps them when the change is broken', async () => {
    const h = await harness();
    const app = await h.detector();
    const before = app.rules().length;
    await produceEvents(h.bus, h.events, [harmlessEvent()]);
    await expect.poll(() => committedCount(h.bus, h.groupId, h.events)).toBe(1);
    expect(await readAlerts(h.bus, h.alerts)).toEqual([]);

    writeFileSync(h.rulesFile, LS_RULE);
    await expect.poll(() => app.rules().length).toBe(before + 1);
    const listed = harmlessEvent();
    await produceEvents(h.bus, h.events, [listed]);
    await expect.poll(async () => (await readAlerts(h.bus, h.alerts)).length).toBe(1);
    expect((await readAlerts(h.bus, h.alerts))[0]!.alert).toMatchObject({
      rule_id: 'falco:Directory listed',
      severity: 'SEVERITY_LOW',
      event_id: listed.id,
      tags: ['test'],
    });

    // Half-saved: broken YAML would drop the file's rule; the running rules stay.
    writeFileSync(h.rulesFile, '- rule: Directory listed\n  condition: [\n');
    await expect
      .poll(() =>
        h.lines.some((line) => line.msg === 'rule reload refused; the running rules stay'),
      )
      .toBe(true);
    expect(app.rules().length).toBe(before + 1);

    // reload() without a file event: the rule removed on purpose is gone.
    writeFileSync(h.rulesFile, '[]\n');
    await expect.poll(() => app.rules().length).toBe(before);
    expect(await app.reload()).toEqual({ applied: true, rules: before });
    const metrics = await app.metrics.registry.metrics();
    expect(metrics).toMatch(/^mamori_detector_rule_reloads_total\{result="refused"\} [1-9]/m);
    expect(metrics).toMatch(/^mamori_detector_rule_reloads_total\{result="applied"\} [2-9]/m);
  });

  it('logs what is wrong in a rule file at start and runs the rules that load', async () => {
    const h = await harness();
    writeFileSync(
      h.rulesFile,
      `${LS_RULE}- rule: Broken\n  desc: x\n  output: x\n  priority: ERROR\n`,
    );
    const app = await h.detector();
    expect(app.rules().some((rule) => rule.id === 'falco:Directory listed')).toBe(true);
    const skipped = h.lines.filter((line) => line.msg === 'rule skipped');
    expect(skipped).toContainEqual(
      expect.objectContaining({
        rule: 'Broken',
        at: expect.stringMatching(/local_rules\.yaml:\d+$/),
        reason: 'the rule has no condition',
      }),
    );
    expect(h.lines.some((line) => line.msg === 'rule file problem')).toBe(true);
    expect(app.readiness()).toEqual({ ready: true });
  });
});
