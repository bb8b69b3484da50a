import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createEnvReader, DEFAULT_DATA_DIR } from '@mamori/common';
import { DEFAULT_BODY_LIMIT } from '@mamori/waas';
import { ACCESS_LOG_FORMATS, type AccessLogFormat } from './waas/access-log/parse.js';
import { DEFAULT_SAMPLE_CLEAN } from './waas/engine.js';
import { DEFAULT_EXE_HASH_MAX_BYTES } from './sensors/process/process-sensor.js';

/** The sensors a defender can run. */
export const SENSOR_NAMES = [
  'process',
  'network',
  'file',
  'falco',
  'tetragon',
  'waas',
  'access-log',
] as const;
export type SensorName = (typeof SENSOR_NAMES)[number];

/** The web application firewall: inline proxies, access logs, and settings where no policy applies. */
export interface WaasConfig {
  /** Inline reverse proxies: where each listens and the application behind it. */
  proxies: { listen: { host: string; port: number }; upstream: URL }[];
  /** Access logs analysed out of band. */
  accessLogs: { path: string; format: AccessLogFormat }[];
  /** For requests no pushed web application policy selects. */
  local: {
    paranoia: 1 | 2 | 3 | 4;
    mode: 'detect' | 'block';
    bodyLimitBytes: number;
    sampleClean: number;
  };
}

/** A listen address as `HOST:PORT`, an IPv6 host in brackets: what parseListen reads. */
export function formatListen(listen: { host: string; port: number }): string {
  return `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`;
}

/** `HOST:PORT` (IPv6 in brackets) as a listen address, or undefined. */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text);
  if (match === null || Number(match[2]) > 65_535) return undefined;
  return { host: match[1] ?? '', port: Number(match[2]) };
}

export interface DefenderConfig {
  /** host:port of ingest's gRPC endpoint. */
  ingest: string;
  /** The agent credential (never logged). */
  token: string;
  agentId: string;
  hostname: string;
  /** PEM of the CA that signed ingest's certificate; plaintext without it. */
  tlsCa?: Buffer;
  spool: { dir: string; maxBytes: number };
  /** Events queued in memory between sensors and spool, at most. */
  queueEvents: number;
  batch: { maxEvents: number; maxMs: number };
  sensors: readonly SensorName[];
  /**
   * Where the node's procfs and root filesystem are seen from the agent: `/proc` and `/` on
   * the node, `/host/proc` and `/host` in the DaemonSet (which mounts them there).
   */
  procfs: { procRoot: string; hostRoot: string };
  /** How often the process sensor polls /proc when the kernel connector is unavailable, ms. */
  processPollMs: number;
  /** Largest executable the process sensor hashes (`exe_hash`), bytes; 0 for none. */
  exeHashMaxBytes: number;
  /** Reconnect delays to ingest: full jitter up to min(maxMs, initialMs × 2^attempt). */
  reconnect: { initialMs: number; maxMs: number };
  /** Whether prevent and block policies are enforced on this node. */
  enforce: boolean;
  /** Paths the file sensor watches (empty: its defaults). */
  sensitivePaths: readonly string[];
  /** Falco's JSON output: a file to follow, and/or host:port for its http_output to post to. */
  falco: { file?: string; listen?: string };
  /** Tetragon's JSON export file to follow. */
  tetragon: { file?: string };
  waas: WaasConfig;
}

/**
 * The defender's configuration from environment variables, validated, all problems at once.
 * Without `MAMORI_DEFENDER_TOKEN` the local credential of `mamori start` on the same data
 * directory (`agents.json`, tenant "default", a fleet credential) is used, so that the platform and
 * a defender on one machine need no setup.
 * @throws MamoriError Config listing every problem.
 */
export function readDefenderConfig(env: NodeJS.ProcessEnv = process.env): Readonly<DefenderConfig> {
  const read = createEnvReader(env);
  const dataDir = resolve(read.string('MAMORI_DATA_DIR', DEFAULT_DATA_DIR));
  let token = read.optionalString('MAMORI_DEFENDER_TOKEN');
  let agentId = read.optionalString('MAMORI_DEFENDER_AGENT_ID');
  const tokenFile = read.optionalString('MAMORI_DEFENDER_TOKEN_FILE');
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      read.problem(
        `MAMORI_DEFENDER_TOKEN_FILE: ${tokenFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
  }
  if (token === undefined) {
    const local = join(dataDir, 'agents.json');
    if (existsSync(local)) {
      try {
        const parsed = JSON.parse(readFileSync(local, 'utf8')) as {
          agents?: { token?: string; agentId?: string }[];
        };
        const first = parsed.agents?.[0];
        if (first?.token !== undefined) {
          token = first.token;
          // A fleet credential ("*") lets the agent name itself (the hostname by default).
          if (first.agentId !== '*') agentId ??= first.agentId;
        }
      } catch {
        read.problem(`${local}: not the agent credentials of mamori start`);
      }
    }
  }
  if (token === undefined) {
    read.problem(
      'MAMORI_DEFENDER_TOKEN: the agent credential is required (or MAMORI_DEFENDER_TOKEN_FILE, or the agents.json of mamori start in MAMORI_DATA_DIR)',
    );
  }
  const waas = readWaasConfig(read);
  const sensors = read.list('MAMORI_DEFENDER_SENSORS', [
    'process',
    'network',
    'file',
    ...(waas.proxies.length > 0 ? ['waas'] : []),
    ...(waas.accessLogs.length > 0 ? ['access-log'] : []),
  ]);
  for (const name of sensors) {
    if (!(SENSOR_NAMES as readonly string[]).includes(name)) {
      read.problem(`MAMORI_DEFENDER_SENSORS: unknown sensor ${name} (${SENSOR_NAMES.join(', ')})`);
    }
  }
  const caFile = read.optionalString('MAMORI_DEFENDER_TLS_CA');
  let tlsCa: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      tlsCa = readFileSync(caFile);
    } catch {
      read.problem(`MAMORI_DEFENDER_TLS_CA: ${caFile} cannot be read`);
    }
  }
  const host = read.string('MAMORI_DEFENDER_HOSTNAME', hostname());
  const falcoFile = read.optionalString('MAMORI_DEFENDER_FALCO_FILE');
  const falcoListenText = read.optionalString('MAMORI_DEFENDER_FALCO_LISTEN');
  const tetragonFile = read.optionalString('MAMORI_DEFENDER_TETRAGON_FILE');
  let falcoListen: string | undefined;
  if (falcoListenText !== undefined) {
    const match = /^(.*):(\d{1,5})$/.exec(falcoListenText);
    if (match === null || Number(match[2]) > 65_535) {
      read.problem(`MAMORI_DEFENDER_FALCO_LISTEN: expected host:port, got ${falcoListenText}`);
    } else {
      falcoListen = falcoListenText;
    }
  }
  if (sensors.includes('falco') && falcoFile === undefined && falcoListen === undefined) {
    read.problem(
      'MAMORI_DEFENDER_SENSORS lists falco: set MAMORI_DEFENDER_FALCO_FILE (its json_output file) or MAMORI_DEFENDER_FALCO_LISTEN (host:port for its http_output)',
    );
  }
  if (sensors.includes('waas') && waas.proxies.length === 0) {
    read.problem(
      'MAMORI_DEFENDER_SENSORS lists waas: set MAMORI_DEFENDER_WAAS_PROXIES (LISTEN=UPSTREAM, e.g. 0.0.0.0:8080=http://127.0.0.1:3000)',
    );
  }
  if (sensors.includes('access-log') && waas.accessLogs.length === 0) {
    read.problem(
      'MAMORI_DEFENDER_SENSORS lists access-log: set MAMORI_DEFENDER_ACCESS_LOGS ([FORMAT=]PATH, e.g. nginx-json=/var/log/nginx/access.json)',
    );
  }
  if (sensors.includes('tetragon') && tetragonFile === undefined) {
    read.problem(
      'MAMORI_DEFENDER_SENSORS lists tetragon: set MAMORI_DEFENDER_TETRAGON_FILE (its JSON export file)',
    );
  }
  const config: DefenderConfig = {
    // Ingest's default address (MAMORI_INGEST_HOST:MAMORI_INGEST_PORT).
    ingest: read.string('MAMORI_DEFENDER_INGEST', '127.0.0.1:7070'),
    token: token ?? '',
    agentId: agentId ?? host,
    hostname: host,
    ...(tlsCa ? { tlsCa } : {}),
    spool: {
      dir: resolve(read.string('MAMORI_DEFENDER_SPOOL_DIR', join(dataDir, 'defender-spool'))),
      // 256 MiB: hours of a busy node's events (a few hundred bytes each, thousands a minute)
      // while the platform is away, and still a small share of a node's disk.
      maxBytes: read.int('MAMORI_DEFENDER_SPOOL_MAX_BYTES', 256 * 1024 * 1024, {
        min: 64 * 1024,
      }),
    },
    // 20,000 events: a few seconds of a burst, about 10-20 MB of objects at most.
    queueEvents: read.int('MAMORI_DEFENDER_QUEUE_EVENTS', 20_000, { min: 10, max: 1_000_000 }),
    batch: {
      // 1,000 events and 200 ms: well under ingest's 5,000-event limit, and an alert's event
      // waits at most 200 ms on the node.
      maxEvents: read.int('MAMORI_DEFENDER_BATCH_EVENTS', 1000, { min: 1, max: 5000 }),
      maxMs: read.int('MAMORI_DEFENDER_BATCH_MS', 200, { min: 1, max: 60_000 }),
    },
    sensors: sensors.filter((s): s is SensorName =>
      (SENSOR_NAMES as readonly string[]).includes(s),
    ),
    procfs: {
      procRoot: read.string('MAMORI_DEFENDER_PROC_ROOT', '/proc'),
      hostRoot: read.string('MAMORI_DEFENDER_HOST_ROOT', '/'),
    },
    processPollMs: read.int('MAMORI_DEFENDER_PROCESS_POLL_MS', 100, { min: 10, max: 100 }),
    exeHashMaxBytes: read.int('MAMORI_DEFENDER_EXE_HASH_MAX_BYTES', DEFAULT_EXE_HASH_MAX_BYTES, {
      min: 0,
      max: 1024 * 1024 * 1024,
    }),
    reconnect: {
      // 500 ms to 30 s: a restarting ingest is back within a few attempts, and thousands of
      // agents of a platform that stays away spread their attempts over half a minute.
      initialMs: read.int('MAMORI_DEFENDER_RECONNECT_INITIAL_MS', 500, { min: 10, max: 60_000 }),
      maxMs: read.int('MAMORI_DEFENDER_RECONNECT_MAX_MS', 30_000, { min: 10, max: 600_000 }),
    },
    enforce: read.bool('MAMORI_DEFENDER_ENFORCE', true),
    sensitivePaths: read.list('MAMORI_DEFENDER_SENSITIVE_PATHS', []),
    falco: {
      ...(falcoFile ? { file: falcoFile } : {}),
      ...(falcoListen ? { listen: falcoListen } : {}),
    },
    tetragon: tetragonFile ? { file: tetragonFile } : {},
    waas,
  };
  read.done();
  return Object.freeze(config);
}

/** The WAAS part of the configuration; problems go to `read`. */
function readWaasConfig(read: ReturnType<typeof createEnvReader>): WaasConfig {
  const proxies: WaasConfig['proxies'] = [];
  for (const pair of read.list('MAMORI_DEFENDER_WAAS_PROXIES', [])) {
    const at = pair.indexOf('=');
    const listen = at < 0 ? undefined : parseListen(pair.slice(0, at));
    let upstream: URL | undefined;
    try {
      upstream = at < 0 ? undefined : new URL(pair.slice(at + 1));
    } catch {
      upstream = undefined;
    }
    if (
      listen === undefined ||
      upstream === undefined ||
      (upstream.protocol !== 'http:' && upstream.protocol !== 'https:')
    ) {
      read.problem(
        `MAMORI_DEFENDER_WAAS_PROXIES: expected LISTEN=UPSTREAM (e.g. 0.0.0.0:8080=http://127.0.0.1:3000), got ${pair}`,
      );
      continue;
    }
    proxies.push({ listen, upstream });
  }
  const accessLogs: WaasConfig['accessLogs'] = [];
  for (const entry of read.list('MAMORI_DEFENDER_ACCESS_LOGS', [])) {
    const at = entry.indexOf('=');
    const format = at < 0 ? 'auto' : entry.slice(0, at);
    const path = at < 0 ? entry : entry.slice(at + 1);
    if (!(ACCESS_LOG_FORMATS as readonly string[]).includes(format) || path === '') {
      read.problem(
        `MAMORI_DEFENDER_ACCESS_LOGS: expected [FORMAT=]PATH with FORMAT one of ${ACCESS_LOG_FORMATS.join(', ')}, got ${entry}`,
      );
      continue;
    }
    accessLogs.push({ path: resolve(path), format: format as AccessLogFormat });
  }
  const mode = read.string('MAMORI_DEFENDER_WAAS_MODE', 'block');
  if (mode !== 'block' && mode !== 'detect') {
    read.problem(`MAMORI_DEFENDER_WAAS_MODE: expected block or detect, got ${mode}`);
  }
  const sampleText = read.string('MAMORI_DEFENDER_WAAS_SAMPLE_CLEAN', String(DEFAULT_SAMPLE_CLEAN));
  const sampleClean = Number(sampleText);
  if (!(sampleClean >= 0 && sampleClean <= 1)) {
    read.problem(
      `MAMORI_DEFENDER_WAAS_SAMPLE_CLEAN: expected a share from 0 to 1, got ${sampleText}`,
    );
  }
  return {
    proxies,
    accessLogs,
    local: {
      paranoia: read.int('MAMORI_DEFENDER_WAAS_PARANOIA', 1, { min: 1, max: 4 }) as 1 | 2 | 3 | 4,
      mode: mode === 'detect' ? 'detect' : 'block',
      // 128 KiB: forms and API payloads; the rest of a longer body is streamed on unread.
      bodyLimitBytes: read.int('MAMORI_DEFENDER_WAAS_BODY_LIMIT', DEFAULT_BODY_LIMIT, {
        min: 0,
        max: 16 * 1024 * 1024,
      }),
      sampleClean: sampleClean >= 0 && sampleClean <= 1 ? sampleClean : DEFAULT_SAMPLE_CLEAN,
    },
  };
}
