import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '@mamori/common';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startDetector } from '../src/index.js';

describe('mamori detector, composed from its environment', () => {
  it('serves /healthz, /readyz once consuming, and /metrics with mamori_detector_ metrics', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-detector-run-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const detector = await startDetector(
      { MAMORI_DATA_DIR: dataDir, MAMORI_BUS_FSYNC: 'false', MAMORI_DETECTOR_OPS_PORT: '0' },
      createSilentLogger(),
    );
    let stopped = false;
    onTestFinished(() => (stopped ? undefined : detector.stop()));
    const base = `http://127.0.0.1:${detector.opsPort!}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^mamori_detector_rules_loaded [1-9]\d*$/m);
    expect(metrics).toContain('mamori_detector_events_evaluated_total 0');
    expect(metrics).toContain('mamori_detector_process_cpu');

    await detector.stop();
    stopped = true;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
