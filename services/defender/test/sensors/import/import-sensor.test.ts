import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createSilentLogger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createFalcoSensor,
  createTetragonSensor,
  type ImportSensor,
} from '../../../src/sensors/import/import-sensor.js';
import * as s from './samples.js';

let sensor: ImportSensor | undefined;
let dir: string | undefined;

afterEach(async () => {
  await sensor?.stop();
  sensor = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function context(events: Event[], warnings: object[]) {
  const logger = createSilentLogger();
  logger.warn = (obj: object) => {
    warnings.push(obj);
  };
  return {
    logger,
    emit: (event: Event) => {
      events.push(event);
      return true;
    },
  };
}

const rules = (events: Event[]) => events.map((e) => e.labels?.['falco.rule']);

describe('Falco importer', () => {
  it('follows a file from its end across rotation, counting bad lines by line number', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mamori-falco-'));
    const path = join(dir, 'events.json');
    await writeFile(path, `${s.FALCO_CONNECT}\n`); // there before the start: not read
    const events: Event[] = [];
    const warnings: object[] = [];
    sensor = createFalcoSensor({ source: { kind: 'file', path, pollMs: 20 } });
    await sensor.start(context(events, warnings));

    // The last line arrives in two writes: it is read once it is whole.
    const half = s.FALCO_SHADOW.length >> 1;
    await appendFile(path, `${s.FALCO_SHELL}\n{not json\n${s.FALCO_SHADOW.slice(0, half)}`);
    await new Promise((r) => setTimeout(r, 100));
    await appendFile(path, `${s.FALCO_SHADOW.slice(half)}\n`);
    await expect
      .poll(() => rules(events), { timeout: 10_000 })
      .toEqual(['Terminal shell in container', 'Read sensitive file untrusted']);

    await rename(path, `${path}.1`);
    await writeFile(path, `${s.FALCO_K8S_AUDIT}\n{"rule":"no time"}\n`);
    await expect
      .poll(() => rules(events), { timeout: 10_000 })
      .toEqual(['Terminal shell in container', 'Read sensitive file untrusted', 'Attach/Exec Pod']);
    await expect.poll(() => sensor?.stats().bad, { timeout: 10_000 }).toBe(2);
    expect(warnings).toEqual([
      expect.objectContaining({ sensor: 'falco', source: path, line: 2 }),
      expect.objectContaining({
        sensor: 'falco',
        source: path,
        line: 2,
        reason: expect.stringMatching(/time/),
      }),
    ]);
  });

  it('takes alerts posted by http_output and refuses an oversized body with 413', async () => {
    const events: Event[] = [];
    sensor = createFalcoSensor({ source: { kind: 'http', port: 0, maxBodyBytes: 4096 } });
    await sensor.start(context(events, []));
    const url = `http://127.0.0.1:${sensor.address()!.port}/`;
    const post = (body: string) =>
      fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

    expect((await post(s.FALCO_SHELL)).status).toBe(200);
    expect((await post('garbage')).status).toBe(400);
    const big = await post(JSON.stringify({ rule: 'x', output: 'y'.repeat(10_000) })).catch(
      (err: unknown) => err,
    );
    expect(big instanceof Response ? big.status : big).toBe(413);
    expect(rules(events)).toEqual(['Terminal shell in container']);
    expect(sensor.stats()).toMatchObject({ emitted: 1, bad: 1 });
  });
});

describe('Tetragon importer', () => {
  it('reads a pipe, skipping kinds it does not import and going on after bad lines', async () => {
    const stream = new PassThrough();
    const events: Event[] = [];
    const warnings: object[] = [];
    sensor = createTetragonSensor({ source: { kind: 'stream', stream, name: 'stdin' } });
    await sensor.start(context(events, warnings));
    stream.write(
      [s.TETRAGON_EXEC, s.TETRAGON_LOADER, '[]', s.TETRAGON_CONNECT, s.TETRAGON_EXIT, ''].join(
        '\n',
      ),
    );
    await expect
      .poll(
        () =>
          events.map((e) =>
            Object.keys(e).find((k) => k.startsWith('process_') || k.startsWith('network_')),
          ),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['process_exec', 'network_connect', 'process_exit']);
    expect(sensor.stats()).toMatchObject({ lines: 5, emitted: 3, bad: 1, skipped: 1 });
    expect(warnings).toEqual([expect.objectContaining({ source: 'stdin', line: 3 })]);
  });
});
