import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, type Logger, type Stoppable } from '@mamori/common';
import { buildDefender, type DefenderApp } from '../app.js';
import { formatListen, parseListen, readDefenderConfig, type DefenderConfig } from '../config.js';
import { createNodeActions } from '../enforce/enforcer.js';
import { processStartTime } from '../procfs/index.js';
import { DEFAULT_BODY_LIMIT } from '@mamori/waas';
import { createWaasEngine, DEFAULT_SAMPLE_CLEAN, type LocalWaasSettings } from './engine.js';
import { createWaasProxy, type WaasProxy } from './proxy.js';
import { createWaasProxySensor } from './sensor.js';

export const WAAS_PROXY_USAGE = `Usage: mamori defender waas --listen HOST:PORT --upstream URL [options]

An inline reverse proxy that inspects each request (@mamori/waas) before the application
sees it; a blocked request is answered 403 (429 for a rate limit) with an event id.

It is a defender agent with the proxy as its only sensor: requests with findings, and a
sample of clean ones, go to the platform as http_request events (credentials and ingest
address as for mamori defender: MAMORI_DEFENDER_TOKEN, MAMORI_DEFENDER_INGEST, or the
agents.json of mamori start), and the web application policies pushed to it apply. Its agent
id is the hostname and -waas, its spool defender-waas-spool in MAMORI_DATA_DIR, unless
MAMORI_DEFENDER_AGENT_ID and MAMORI_DEFENDER_SPOOL_DIR say otherwise (a credential bound to one
agent id needs that id). To run the proxy next to the node's other sensors instead, give
mamori defender MAMORI_DEFENDER_WAAS_PROXIES.

Options:
  --listen HOST:PORT     where to listen (e.g. 127.0.0.1:8081; [::1]:8081)
  --upstream URL         the application (http:// or https://, e.g. http://127.0.0.1:3000)
  --paranoia N           1 to 4: more catches more and blocks more normal text (default 1)
  --mode block|detect    what a blocking verdict does where no policy applies (default block)
  --body-limit BYTES     bytes of a body inspected; the rest is streamed on (default 131072)
  --sample-clean SHARE   share of clean requests sent as events, 0 to 1 (default 0.01)
  --standalone           no platform: verdicts are only logged
`;

/** What `mamori defender waas`'s arguments ask for. */
export interface WaasProxyArgs {
  listen: { host: string; port: number };
  upstream: URL;
  local: Required<LocalWaasSettings>;
  standalone: boolean;
}

/** The proxy's options from `mamori defender waas`'s arguments, or every error in them. */
export function parseWaasProxyArgs(argv: readonly string[]): WaasProxyArgs | { errors: string[] } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        listen: { type: 'string' },
        upstream: { type: 'string' },
        paranoia: { type: 'string', default: '1' },
        mode: { type: 'string', default: 'block' },
        'body-limit': { type: 'string', default: String(DEFAULT_BODY_LIMIT) },
        'sample-clean': { type: 'string', default: String(DEFAULT_SAMPLE_CLEAN) },
        standalone: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    return { errors: [err instanceof Error ? err.message : String(err)] };
  }
  const errors: string[] = [];
  const listen = parseListen(values.listen ?? '');
  if (listen === undefined) errors.push('--listen: expected HOST:PORT');
  let upstream: URL | undefined;
  try {
    upstream = new URL(values.upstream ?? '');
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
      errors.push('--upstream: expected an http:// or https:// URL');
    }
  } catch {
    errors.push('--upstream: expected a URL such as http://127.0.0.1:3000');
  }
  const paranoia = Number(values.paranoia);
  if (![1, 2, 3, 4].includes(paranoia)) errors.push('--paranoia: expected 1, 2, 3 or 4');
  const mode = values.mode;
  if (mode !== 'block' && mode !== 'detect') errors.push('--mode: expected block or detect');
  const bodyLimit = Number(values['body-limit']);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 0) {
    errors.push('--body-limit: expected a non-negative number of bytes');
  }
  const sample = Number(values['sample-clean']);
  if (!(sample >= 0 && sample <= 1)) errors.push('--sample-clean: expected a share from 0 to 1');
  if (errors.length > 0 || listen === undefined || upstream === undefined) return { errors };
  return {
    listen,
    upstream,
    local: {
      paranoia: paranoia as 1 | 2 | 3 | 4,
      mode: mode === 'detect' ? 'detect' : 'block',
      bodyLimitBytes: bodyLimit,
      sampleClean: sample,
    },
    standalone: values.standalone === true,
  };
}

/**
 * `mamori defender waas`: the proxy in a defender agent of its own (events to the platform,
 * policies from it), or with `--standalone` alone, verdicts in the log.
 * @throws Error listing what is wrong with the arguments; MamoriError Config for the agent's
 * environment or when the proxy cannot listen.
 */
export async function startWaasProxyCommand(
  argv: readonly string[],
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Stoppable & { proxy?: WaasProxy; app?: DefenderApp }> {
  const parsed = parseWaasProxyArgs(argv);
  if ('errors' in parsed) throw new Error(`${parsed.errors.join('; ')}\n\n${WAAS_PROXY_USAGE}`);
  if (parsed.standalone) {
    const proxy = createWaasProxy({
      listen: parsed.listen,
      upstream: parsed.upstream,
      local: parsed.local,
      logger,
    });
    await proxy.start();
    return { proxy, stop: () => proxy.stop() };
  }
  // An agent of its own next to the node's: another id (so that the two never share batch
  // sequences) and another spool, unless the environment names them.
  const dataDir = resolve(env['MAMORI_DATA_DIR'] ?? DEFAULT_DATA_DIR);
  const base = readDefenderConfig({
    MAMORI_DEFENDER_SENSORS: 'waas',
    MAMORI_DEFENDER_AGENT_ID: `${env['MAMORI_DEFENDER_HOSTNAME'] ?? hostname()}-waas`,
    MAMORI_DEFENDER_SPOOL_DIR: join(dataDir, 'defender-waas-spool'),
    ...env,
    // The proxy comes from the arguments: the agent must not start the environment's too.
    MAMORI_DEFENDER_WAAS_PROXIES: `${formatListen(parsed.listen)}=${parsed.upstream.href}`,
  });
  const config: DefenderConfig = {
    ...base,
    waas: { ...base.waas, local: parsed.local },
  };
  const engine = createWaasEngine({
    local: parsed.local,
    logger: logger.child({ component: 'waas' }),
    enforcePolicies: config.enforce,
  });
  const sensor = createWaasProxySensor({ proxies: config.waas.proxies, engine });
  const app = buildDefender({
    config,
    logger,
    sensors: [sensor],
    actions: createNodeActions((pid) => processStartTime(pid, config.procfs)),
    waas: engine,
  });
  await app.start();
  const unavailable = app.stats().unavailable;
  if (unavailable.length > 0) {
    await app.stop();
    throw new Error(unavailable.map((u) => u.reason).join('; '));
  }
  logger.info(
    {
      listen: sensor.proxies().map((p) => p.listen),
      upstream: parsed.upstream.href,
      ingest: config.ingest,
      agentId: config.agentId,
      spool: config.spool.dir,
    },
    'waas proxy running in a defender agent',
  );
  return { app, stop: () => app.stop() };
}
