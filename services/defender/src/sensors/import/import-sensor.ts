import type { Readable } from 'node:stream';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import type { Sensor, SensorContext, SensorStatus } from '../sensor.js';
import { falcoToEvent } from './falco.js';
import {
  listenHttp,
  readLines,
  tailFile,
  type HttpLinesOptions,
  type LineOrigin,
  type LineSource,
} from './line-sources.js';
import { tetragonToEvent } from './tetragon.js';

/** Where an importer reads its tool's JSON lines from. */
export type ImportSource =
  | { kind: 'file'; path: string; fromStart?: boolean; pollMs?: number }
  | { kind: 'stream'; stream: Readable; name?: string }
  | ({ kind: 'http' } & HttpLinesOptions);

export interface ImportSensorOptions {
  source: ImportSource;
}

/** What an importer has read since it started. */
export interface ImportStats {
  lines: number;
  emitted: number;
  /** Lines that were no JSON, or no event of the tool: counted, logged with their line number. */
  bad: number;
  /** Well-formed lines of kinds Mamori does not import (e.g. Tetragon's process_loader). */
  skipped: number;
}

export interface ImportSensor extends Sensor {
  stats(): ImportStats;
  /** The HTTP listener's address, once started with an `http` source. */
  address(): { address: string; port: number } | undefined;
}

/** Falco's JSON output (a file, a pipe or its http_output) as Mamori events. */
export function createFalcoSensor(options: ImportSensorOptions): ImportSensor {
  return createImportSensor('falco', falcoToEvent, options);
}

/** Tetragon's JSON export (a file or a pipe) as Mamori events. */
export function createTetragonSensor(options: ImportSensorOptions): ImportSensor {
  return createImportSensor('tetragon', tetragonToEvent, options);
}

function createImportSensor(
  name: 'falco' | 'tetragon',
  convert: (record: unknown) => Event | undefined,
  options: ImportSensorOptions,
): ImportSensor {
  const stats: ImportStats = { lines: 0, emitted: 0, bad: 0, skipped: 0 };
  let source: LineSource | undefined;
  let context: SensorContext | undefined;
  let log: Logger | undefined;

  function bad(reason: string, where: LineOrigin): void {
    stats.bad++;
    // The line itself is never logged: it is another tool's data, possibly secrets in a cmdline.
    log?.warn({ sensor: name, ...where, reason }, 'unreadable line skipped');
  }

  function onLine(line: string, where: LineOrigin): boolean {
    stats.lines++;
    let event: Event | undefined;
    try {
      event = convert(JSON.parse(line));
    } catch (err) {
      bad(err instanceof Error ? err.message : String(err), where);
      return false;
    }
    if (!event) {
      stats.skipped++;
      return true;
    }
    if (context?.emit(event, 'high')) stats.emitted++;
    return true;
  }

  return {
    name,
    stats: () => ({ ...stats }),
    address: () => source?.address,
    async start(ctx: SensorContext): Promise<SensorStatus> {
      context = ctx;
      log = ctx.logger;
      const spec = options.source;
      let mode: string;
      try {
        if (spec.kind === 'file') {
          mode = `tail ${spec.path}`;
          source = await tailFile(
            {
              path: spec.path,
              ...(spec.fromStart === undefined ? {} : { fromStart: spec.fromStart }),
              ...(spec.pollMs === undefined ? {} : { pollMs: spec.pollMs }),
              onProblem: bad,
            },
            onLine,
          );
        } else if (spec.kind === 'stream') {
          mode = `lines from ${spec.name ?? 'stdin'}`;
          source = readLines(spec.stream, spec.name ?? 'stdin', onLine);
        } else {
          source = await listenHttp(spec, onLine);
          mode = `http POST on ${source.address?.address}:${source.address?.port}`;
        }
      } catch (err) {
        throw new MamoriError(ErrorCode.Config, `the ${name} importer cannot read its source`, {
          cause: err,
          context: { sensor: name, source: spec.kind },
        });
      }
      return {
        sensor: name,
        mode,
        limitations: [
          `sees what ${name === 'falco' ? 'Falco' : 'Tetragon'} reports, when it runs on this node and writes JSON to this source`,
          name === 'falco'
            ? 'the Falco rule travels as labels (falco.rule, falco.priority) of the mapped event; alerts whose fields describe no exec, open or connection become scanner_finding events'
            : 'kprobe events other than tcp_connect and file hooks become scanner_finding events named after the policy',
          'process arguments are split on spaces as the tool prints them',
          ...(spec.kind === 'file'
            ? ['lines written while the agent was not running are not read (tail -f)']
            : []),
        ],
      };
    },
    async stop(): Promise<void> {
      await source?.close();
      source = undefined;
    },
  };
}
