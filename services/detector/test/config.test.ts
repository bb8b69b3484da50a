import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readDetectorConfig } from '../src/index.js';

describe('detector configuration', () => {
  it('defaults to the built-in rules, group mamori-detector and ops on 127.0.0.1:9466', () => {
    const config = readDetectorConfig({});
    expect(config).toMatchObject({
      groupId: 'mamori-detector',
      topics: { events: 'mamori.events.v1', alerts: 'mamori.alerts.v1' },
      builtinRules: true,
      ruleFiles: [],
      watchRules: true,
      ops: { host: '127.0.0.1', port: 9466 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('runs the stateful rules by default with their checkpoints on mamori.detector.state.v1, and reads both settings', () => {
    expect(readDetectorConfig({})).toMatchObject({
      statefulRules: true,
      topics: { state: 'mamori.detector.state.v1' },
    });
    expect(
      readDetectorConfig({
        MAMORI_DETECTOR_STATEFUL: 'false',
        MAMORI_TOPIC_DETECTOR_STATE: 'city.detector.state',
      }),
    ).toMatchObject({ statefulRules: false, topics: { state: 'city.detector.state' } });
  });

  it("follows ingest's policies topic by default, and reads both settings", () => {
    expect(readDetectorConfig({})).toMatchObject({
      policies: true,
      topics: { policies: 'mamori.policies.v1' },
    });
    expect(
      readDetectorConfig({
        MAMORI_DETECTOR_POLICIES: 'false',
        MAMORI_TOPIC_POLICIES: 'city.policies',
      }),
    ).toMatchObject({ policies: false, topics: { policies: 'city.policies' } });
  });

  it('resolves listed rule files and keeps their order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-detector-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'b.yaml'), '[]');
    writeFileSync(join(dir, 'a.yaml'), '[]');
    const config = readDetectorConfig({
      MAMORI_DETECTOR_RULES: `${join(dir, 'b.yaml')}, ${join(dir, 'a.yaml')}`,
      MAMORI_DETECTOR_GROUP: 'det',
      MAMORI_TOPIC_EVENTS: 'ev',
      MAMORI_TOPIC_ALERTS: 'al',
    });
    expect(config.ruleFiles).toEqual([join(dir, 'b.yaml'), join(dir, 'a.yaml')]);
    expect(config).toMatchObject({ groupId: 'det', topics: { events: 'ev', alerts: 'al' } });
  });

  it('reports every problem at once: missing rule files, no rules at all, bad numbers', () => {
    expect(() =>
      readDetectorConfig({
        MAMORI_DETECTOR_BUILTIN: 'nope',
        MAMORI_DETECTOR_RULES: '/nonexistent/rules.yaml',
        MAMORI_DETECTOR_OPS_PORT: '70000',
        MAMORI_DETECTOR_BATCH_EVENTS: '0',
      }),
    ).toThrow(
      /MAMORI_DETECTOR_RULES: \/nonexistent\/rules.yaml cannot be read \(ENOENT\)[\s\S]*MAMORI_DETECTOR_BUILTIN[\s\S]*MAMORI_DETECTOR_BATCH_EVENTS[\s\S]*MAMORI_DETECTOR_OPS_PORT/,
    );
    expect(() => readDetectorConfig({ MAMORI_DETECTOR_BUILTIN: 'false' })).toThrow(
      /no rules to run/,
    );
  });
});
