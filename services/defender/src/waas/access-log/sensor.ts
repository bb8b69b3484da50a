import { stat } from 'node:fs/promises';
import { ErrorCode, MamoriError } from '@mamori/common';
import type { Event } from '@mamori/proto';
import type { Sensor, SensorContext, SensorStatus } from '../../sensors/sensor.js';
import { tailFile, type LineOrigin, type LineSource } from '../../sensors/import/line-sources.js';
import { priorityOfHttpEvent } from '../event.js';
import type { AccessLogEntry, AccessLogParser } from './entry.js';
import { ACCESS_LOG_FORMATS, accessLogParser, type AccessLogFormat } from './parse.js';

const SENSOR = 'access-log';

/**
 * Malformed lines logged per minute: a scanner sending garbage to the server writes a bad log
 * line per request, and each must not become a warning of the agent's own. The count goes on.
 */
const WARNINGS_PER_MINUTE = 20;

/** One access log file to follow. */
export interface AccessLogSource {
  path: string;
  format: AccessLogFormat;
  /** Read what the file already holds first; otherwise start at its end, as `tail -f`. @default false */
  fromStart?: boolean;
}

/**
 * Where an entry was read: the file, and the 1-based number of the line among those read from
 * it (counted from the file's end when the sensor started there, and from 1 after a rotation).
 */
export interface AccessLogOrigin {
  source: string;
  line: number;
}

export interface AccessLogSensorOptions {
  sources: readonly AccessLogSource[];
  /**
   * Judges an entry and returns the `http_request` event to emit, or undefined (a clean line not
   * sampled). An event whose `waas.action` label is not `allow` is emitted with high priority.
   * Called in the order of each file's lines; one that throws is logged and the line skipped.
   */
  analyze: (entry: AccessLogEntry, origin: AccessLogOrigin) => Event | undefined;
  /** How often each file is checked for growth and rotation, in milliseconds. @default 250 */
  pollMs?: number;
}

/** What the sensor has read since it started. */
export interface AccessLogStats {
  /** Lines read (empty ones are not counted). */
  lines: number;
  /** Lines parsed into entries and handed to `analyze`. */
  entries: number;
  /** Lines no entry could be read from (or too long to read): counted, logged by file and line. */
  malformed: number;
  /** Events the agent took. */
  emitted: number;
}

export interface AccessLogSensor extends Sensor {
  stats(): AccessLogStats;
}

/**
 * Follows web server access logs (nginx JSON, envoy JSON or text) across rotation and hands
 * each request they record to `analyze`: out-of-band analysis, requests are reported, never
 * blocked.
 * @throws MamoriError (MAMORI_CONFIG) for no sources, an unknown format or a bad pollMs.
 */
export function createAccessLogSensor(options: AccessLogSensorOptions): AccessLogSensor {
  if (options.sources.length === 0) {
    throw new MamoriError(ErrorCode.Config, 'the access log sensor needs at least one file', {
      context: { sensor: SENSOR, field: 'sources' },
    });
  }
  for (const source of options.sources) {
    if (!ACCESS_LOG_FORMATS.includes(source.format)) {
      throw new MamoriError(ErrorCode.Config, 'unknown access log format', {
        context: { sensor: SENSOR, field: 'format', path: source.path, format: source.format },
      });
    }
  }
  if (options.pollMs !== undefined && !(Number.isInteger(options.pollMs) && options.pollMs > 0)) {
    throw new MamoriError(ErrorCode.Config, 'pollMs must be a positive integer', {
      context: { sensor: SENSOR, field: 'pollMs' },
    });
  }

  const stats: AccessLogStats = { lines: 0, entries: 0, malformed: 0, emitted: 0 };
  let context: SensorContext | undefined;
  let tails: LineSource[] = [];
  let started = false;
  let windowStart = -Infinity;
  let warned = 0;
  let suppressed = 0;

  function malformed(reason: string, where: LineOrigin): void {
    stats.malformed++;
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      windowStart = now;
      warned = 0;
    }
    if (warned >= WARNINGS_PER_MINUTE) {
      suppressed++;
      return;
    }
    warned++;
    // The line is never logged: it may hold cookies or credentials the parser did not redact.
    context?.logger.warn(
      {
        sensor: SENSOR,
        source: where.source,
        line: where.line,
        reason,
        ...(suppressed > 0 ? { notLoggedBefore: suppressed } : {}),
      },
      'unreadable access log line skipped',
    );
    suppressed = 0;
  }

  function onLine(parse: AccessLogParser, line: string, where: LineOrigin): void {
    stats.lines++;
    const parsed = parse(line);
    if ('error' in parsed) {
      malformed(parsed.error, where);
      return;
    }
    stats.entries++;
    let event: Event | undefined;
    try {
      event = options.analyze(parsed.entry, { source: where.source, line: where.line });
    } catch (err) {
      context?.logger.error(
        { sensor: SENSOR, source: where.source, line: where.line, err },
        'access log entry not analysed',
      );
      return;
    }
    if (event === undefined || context === undefined) return;
    if (context.emit(event, priorityOfHttpEvent(event))) stats.emitted++;
  }

  function onProblem(problem: string, where: LineOrigin): void {
    if (problem.startsWith('read failed')) {
      context?.logger.warn(
        { sensor: SENSOR, source: where.source, problem },
        'access log read failed',
      );
      return;
    }
    // Anything else tailFile reports is a line it dropped (longer than its limit).
    stats.lines++;
    malformed(problem, where);
  }

  async function follow(source: AccessLogSource): Promise<LineSource> {
    const parse = accessLogParser(source.format);
    const there = await stat(source.path).then(
      () => true,
      () => false,
    );
    if (!there) {
      context?.logger.warn(
        { sensor: SENSOR, source: source.path },
        'access log not there yet: read from its start once created',
      );
    }
    try {
      return await tailFile(
        {
          path: source.path,
          ...(source.fromStart === undefined ? {} : { fromStart: source.fromStart }),
          ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
          onProblem,
        },
        (line, where) => onLine(parse, line, where),
      );
    } catch (err) {
      throw new MamoriError(ErrorCode.Config, 'cannot follow the access log', {
        cause: err,
        context: { sensor: SENSOR, path: source.path },
      });
    }
  }

  return {
    name: SENSOR,
    stats: () => ({ ...stats }),
    async start(ctx: SensorContext): Promise<SensorStatus> {
      if (started) throw new Error('the access log sensor is already started');
      started = true;
      context = ctx;
      const results = await Promise.allSettled(options.sources.map(follow));
      tails = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        await Promise.all(tails.map((t) => t.close()));
        tails = [];
        throw failed.reason;
      }
      const n = options.sources.length;
      return {
        sensor: SENSOR,
        mode: `tail ${n} ${n === 1 ? 'file' : 'files'}`,
        limitations: [
          'out of band: requests are reported, never blocked',
          'only what the log format records is inspected (usually no body or cookies)',
        ],
      };
    },
    async stop(): Promise<void> {
      const closing = tails;
      tails = [];
      await Promise.all(closing.map((t) => t.close()));
    },
  };
}
