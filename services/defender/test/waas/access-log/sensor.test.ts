import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger, isMamoriError } from '@mamori/common';
import type { Event } from '@mamori/proto';
import { createInspector } from '@mamori/waas';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPriority } from '../../../src/sensors/sensor.js';
import {
  createAccessLogSensor,
  entryToRequest,
  entryToSeen,
  type AccessLogEntry,
  type AccessLogOrigin,
  type AccessLogSensor,
  type AccessLogSource,
} from '../../../src/waas/access-log/index.js';
import { toHttpEvent } from '../../../src/waas/event.js';
import * as s from './samples.js';

let sensor: AccessLogSensor | undefined;
let dir: string | undefined;

afterEach(async () => {
  await sensor?.stop();
  sensor = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

interface Recorded {
  events: { event: Event; priority: EventPriority | undefined }[];
  origins: AccessLogOrigin[];
  warnings: Record<string, unknown>[];
  errors: Record<string, unknown>[];
}

function recorder(): Recorded {
  return { events: [], origins: [], warnings: [], errors: [] };
}

function context(rec: Recorded) {
  const logger = createSilentLogger();
  logger.warn = (obj: object) => {
    rec.warnings.push(obj as Record<string, unknown>);
  };
  logger.error = (obj: object) => {
    rec.errors.push(obj as Record<string, unknown>);
  };
  return {
    logger,
    emit: (event: Event, priority?: EventPriority) => {
      rec.events.push({ event, priority });
      return true;
    },
  };
}

/** The analysis the agent wires: the WAAS inspector, every entry an event (no sampling here). */
function waasAnalyze(rec: Recorded) {
  const inspector = createInspector();
  let n = 0;
  return (entry: AccessLogEntry, origin: AccessLogOrigin): Event | undefined => {
    rec.origins.push(origin);
    const verdict = inspector.inspect(entryToRequest(entry));
    return toHttpEvent(
      `al-${++n}`,
      entryToSeen(entry),
      verdict,
      entry.timeUnixMicros ?? Date.now() * 1000,
    );
  };
}

function start(sources: AccessLogSource[], rec: Recorded, analyze = waasAnalyze(rec)) {
  sensor = createAccessLogSensor({ sources, analyze, pollMs: 20 });
  return sensor.start(context(rec));
}

const urls = (rec: Recorded) => rec.events.map((e) => e.event.http_request?.url);

async function tempDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'mamori-access-log-'));
  return dir;
}

describe('access log sensor', () => {
  it('analyses appended lines in order across a rotation, going on after a malformed line', async () => {
    const path = join(await tempDir(), 'access.json');
    await writeFile(path, `${s.NGINX_POST}\n`); // there before the start: not read
    const rec = recorder();
    const status = await start([{ path, format: 'nginx-json' }], rec);
    expect(status).toEqual({
      sensor: 'access-log',
      mode: 'tail 1 file',
      limitations: [
        'out of band: requests are reported, never blocked',
        'only what the log format records is inspected (usually no body or cookies)',
      ],
    });

    await appendFile(path, `${s.NGINX_REQUEST_LINE}\n${s.NGINX_TRUNCATED}\n${s.NGINX_SQLI}\n`);
    await expect
      .poll(() => urls(rec), { timeout: 10_000 })
      .toEqual([
        '/files/annual report 2023.pdf',
        '/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--',
      ]);

    const [clean, sqli] = rec.events;
    expect(clean).toMatchObject({ priority: 'low', event: { labels: { 'waas.action': 'allow' } } });
    expect(sqli).toMatchObject({
      priority: 'high',
      event: { labels: { 'waas.action': 'block' } },
    });
    expect(sqli?.event.labels?.['waas.categories']).toContain('sqli');
    expect(sqli?.event.http_request?.client_address).toBe('198.51.100.4');
    // Lines count from where reading began (the file's end at the start).
    expect(rec.origins).toEqual([
      { source: path, line: 1 },
      { source: path, line: 3 },
    ]);
    expect(rec.warnings).toEqual([
      {
        sensor: 'access-log',
        source: path,
        line: 2,
        reason: 'not JSON: cut short (no closing brace)',
      },
    ]);
    // The malformed line held a bearer token: it is never logged.
    expect(JSON.stringify(rec.warnings)).not.toContain('s3cr3t');

    // logrotate's default: a last line written, the file renamed away, a new one created.
    await appendFile(path, `${s.NGINX_POST}\n`);
    await rename(path, `${path}.1`);
    await writeFile(path, `${s.NGINX_EMPTY_REQUEST}\n${s.NGINX_SQLI.replace('/search', '/s2')}\n`);
    await expect
      .poll(() => urls(rec).slice(2), { timeout: 10_000 })
      .toEqual([
        '/api/login?next=%2Fhome',
        '/s2?q=1%27%20UNION%20SELECT%20password%20FROM%20users--',
      ]);
    expect(rec.origins.slice(2)).toEqual([
      { source: path, line: 4 },
      { source: path, line: 2 },
    ]);
    expect(sensor?.stats()).toEqual({ lines: 6, entries: 4, malformed: 2, emitted: 4 });
  });

  it('tails several files of different formats, and a file created after the start from its start', async () => {
    const root = await tempDir();
    const envoy = join(root, 'envoy.log');
    const later = join(root, 'logs', 'mixed.log');
    await writeFile(envoy, '');
    const rec = recorder();
    const status = await start(
      [
        { path: envoy, format: 'envoy-text' },
        { path: later, format: 'auto' },
      ],
      rec,
    );
    expect(status.mode).toBe('tail 2 files');
    expect(rec.warnings).toEqual([
      expect.objectContaining({ source: later, sensor: 'access-log' }),
    ]);

    await appendFile(envoy, `${s.ENVOY_TEXT}\n${s.ENVOY_TEXT_NO_REQUEST}\n`);
    await mkdir(join(root, 'logs'));
    await writeFile(later, `${s.ENVOY_JSON}\n${s.NGINX_REQUEST_LINE}\n${s.ENVOY_TEXT_DASHES}\n`);
    await expect
      .poll(() => [...urls(rec)].sort(), { timeout: 10_000 })
      .toEqual([
        '/api/v1/orders?dry_run=1',
        '/api/v1/users?id=7',
        '/files/annual report 2023.pdf',
        '/healthz',
      ]);
    expect(rec.origins.filter((o) => o.source === later).map((o) => o.line)).toEqual([1, 2, 3]);
    expect(rec.warnings.at(-1)).toMatchObject({
      source: envoy,
      line: 2,
      reason: 'no request method',
    });
    expect(sensor?.stats()).toMatchObject({ lines: 5, entries: 4, malformed: 1 });
  });

  it('goes on after an analysis that throws, and emits nothing for an entry analysed as clean', async () => {
    const path = join(await tempDir(), 'access.json');
    await writeFile(path, '');
    const rec = recorder();
    const analyzed: string[] = [];
    await start([{ path, format: 'nginx-json', fromStart: true }], rec, (entry) => {
      analyzed.push(entry.url);
      if (entry.url === '/boom') throw new Error('analysis bug');
      return undefined;
    });
    await appendFile(
      path,
      ['{"request":"GET /boom HTTP/1.1"}', '{"request":"GET /next HTTP/1.1"}', ''].join('\n'),
    );
    await expect.poll(() => analyzed, { timeout: 10_000 }).toEqual(['/boom', '/next']);
    expect(rec.errors).toEqual([expect.objectContaining({ source: path, line: 1 })]);
    expect(rec.events).toEqual([]);
    expect(sensor?.stats()).toEqual({ lines: 2, entries: 2, malformed: 0, emitted: 0 });
  });

  it('reads what a file already holds when told to start from its start', async () => {
    const path = join(await tempDir(), 'envoy.json');
    await writeFile(path, `${s.ENVOY_JSON}\n${s.ENVOY_JSON_STRINGS}\n`);
    const rec = recorder();
    await start([{ path, format: 'envoy-json', fromStart: true }], rec);
    expect(urls(rec)).toEqual(['/api/v1/users?id=7', '/api/v1/users/7']);
  });

  it('logs at most 20 malformed lines a minute and counts them all', async () => {
    const path = join(await tempDir(), 'access.json');
    await writeFile(path, `${'garbage\n'.repeat(25)}{"request":"GET /ok HTTP/1.1"}\n`);
    const rec = recorder();
    await start([{ path, format: 'nginx-json', fromStart: true }], rec);
    expect(urls(rec)).toEqual(['/ok']);
    expect(rec.warnings).toHaveLength(20);
    expect(sensor?.stats()).toMatchObject({ lines: 26, malformed: 25, entries: 1 });
  });

  it('rejects with a MamoriError naming the path when a file cannot be read', async () => {
    const root = await tempDir();
    const readable = join(root, 'ok.log');
    await writeFile(readable, '');
    const rec = recorder();
    const failure: unknown = await start(
      [
        { path: readable, format: 'envoy-text' },
        { path: root, format: 'envoy-text' }, // a directory: open works, read fails
      ],
      rec,
    ).catch((err: unknown) => err);
    expect(isMamoriError(failure, 'MAMORI_CONFIG')).toBe(true);
    expect(isMamoriError(failure) && failure.context).toMatchObject({
      sensor: 'access-log',
      path: root,
    });
  });

  it('refuses options it cannot run with', () => {
    const analyze = () => undefined;
    expect(() => createAccessLogSensor({ sources: [], analyze })).toThrow(/at least one/);
    expect(() =>
      createAccessLogSensor({
        sources: [{ path: '/x', format: 'apache' as 'auto' }],
        analyze,
      }),
    ).toThrow(/format/);
    expect(() =>
      createAccessLogSensor({ sources: [{ path: '/x', format: 'auto' }], analyze, pollMs: 0 }),
    ).toThrow(/pollMs/);
  });
});
