import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createBus, readBusConfig } from '@mamori/bus';
import {
  allReady,
  createEnvReader,
  DEFAULT_DATA_DIR,
  type Logger,
  type Stoppable,
} from '@mamori/common';
import { startDetector } from '@mamori/detector';
import { startIngest } from '@mamori/ingest';

export const USAGE = `Usage: mamori <command>

Commands:
  start     run the platform in one process on embedded defaults (ingest, detector and
            store on a durable local log, history in chDB)
  ingest    run the gRPC ingest service alone (MAMORI_BUS=embedded|kafka)
  detector  run the detector alone: events from the bus against the rules, alerts back to it
            (MAMORI_DETECTOR_RULES adds rule files to the built-ins)
  store     run the store alone: events from the bus into the warehouse (ClickHouse)
  api       run the GraphQL API alone over the warehouse (MAMORI_API_PORT, default 8080)
  defender  run the agent on this node: process, network and file sensors, an offline spool,
            local enforcement of policies; streams to ingest (MAMORI_DEFENDER_INGEST)
  defender waas --listen HOST:PORT --upstream URL
            an inline proxy that inspects requests and answers attacks 403 with an event id
  rules     check rule files and test events against them (mamori rules help)
  waas      inspect HTTP requests (JSON Lines) for attacks: mamori waas inspect (mamori waas help)
  help      show this text

Configuration comes from environment variables; see the README's configuration reference.
`;

/**
 * A credentials file that `mamori start` creates on first start when none is configured:
 * one random token for tenant "default". Only its path is logged, never the token.
 */
function ensureLocalTokenFile(
  file: string,
  content: (token: string) => unknown,
  what: string,
  logger: Logger,
): string {
  const path = resolve(file);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const token = randomBytes(32).toString('base64url');
    writeFileSync(path, `${JSON.stringify(content(token), null, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    logger.info({ file: path }, `created local ${what}`);
  }
  return path;
}

/**
 * Agent credentials for `mamori start`: tenant "default", a fleet credential (`agentId: "*"`)
 * with which each agent of the machine names itself (`mamori defender` by the hostname, the
 * proxy of `mamori defender waas` by the hostname and `-waas`), so that two agents never share
 * an id and with it their batch sequences.
 */
export function ensureLocalCredentials(dataDir: string, logger: Logger): string {
  return ensureLocalTokenFile(
    join(dataDir, 'agents.json'),
    (token) => ({ agents: [{ token, tenant: 'default', agentId: '*' }] }),
    'agent credentials (tenant "default", each agent names itself)',
    logger,
  );
}

/** An API token for `mamori start`: tenant "default", role admin. */
export function ensureLocalApiToken(dataDir: string, logger: Logger): string {
  return ensureLocalTokenFile(
    join(dataDir, 'api-tokens.json'),
    (token) => ({ tokens: [{ token, tenant: 'default', role: 'admin' }] }),
    'API token (tenant "default", role admin)',
    logger,
  );
}

/**
 * `mamori start`: the platform in this process on embedded defaults — ingest, detector and
 * store sharing one embedded log (it belongs to one process), the detector turning events
 * into alerts on it, the store writing both to chDB and the GraphQL API reading from it.
 * Stops in flow order: ingest stops taking events, the detector finishes its batch, the store
 * flushes and commits, the API stops, then the log closes.
 *
 * One ops surface for the process: the API's /healthz, /readyz (ready when the warehouse
 * answers and ingest, the detector and the store are ready) and /metrics (the API's, ingest's,
 * the detector's and the store's metrics, process metrics once). The other services open no
 * ops port of their own.
 */
export async function startPlatform(env: NodeJS.ProcessEnv, logger: Logger): Promise<Stoppable> {
  const platformEnv: NodeJS.ProcessEnv = {
    MAMORI_BUS: 'embedded',
    MAMORI_DATA_DIR: DEFAULT_DATA_DIR,
    ...env,
  };
  const dataDir = platformEnv['MAMORI_DATA_DIR']!;
  if (!platformEnv['MAMORI_INGEST_TOKENS_FILE'] && !platformEnv['MAMORI_INGEST_TOKENS']) {
    platformEnv['MAMORI_INGEST_TOKENS_FILE'] = ensureLocalCredentials(dataDir, logger);
  }
  if (!platformEnv['MAMORI_API_TOKENS_FILE'] && !platformEnv['MAMORI_API_TOKENS']) {
    platformEnv['MAMORI_API_TOKENS_FILE'] = ensureLocalApiToken(dataDir, logger);
  }
  const read = createEnvReader(platformEnv);
  const busConfig = readBusConfig(read, { dataDir, service: 'platform' });
  read.done();
  const bus = await createBus(busConfig, logger.child({ component: 'bus' }));
  const services: { name: string; running: Stoppable }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const { name, running } of services.splice(0)) {
      try {
        await running.stop();
      } catch (err) {
        logger.error({ err, service: name }, 'service did not stop cleanly');
      }
    }
    await bus.close();
  };
  try {
    const ingest = await startIngest(platformEnv, logger.child({ service: 'ingest' }), {
      bus,
      opsServer: false,
    });
    services.push({ name: 'ingest', running: ingest });
    const detector = await startDetector(platformEnv, logger.child({ service: 'detector' }), {
      bus,
      opsServer: false,
    });
    services.push({ name: 'detector', running: detector });
    const { startStore } = await import('@mamori/store');
    const store = await startStore(platformEnv, logger.child({ service: 'store' }), {
      bus,
      opsServer: false,
    });
    services.push({ name: 'store', running: store });
    const { startApi } = await import('@mamori/api');
    const api = await startApi(platformEnv, logger.child({ service: 'api' }), {
      // The platform's bus: the API writes policies to it, which ingest follows.
      bus,
      colocated: {
        ready: allReady({
          ingest: () => ingest.app.readiness(),
          detector: detector.ready,
          store: store.ready,
        }),
        registries: [
          ingest.app.metrics.registry,
          detector.app.metrics.registry,
          store.app.metrics.registry,
        ],
      },
    });
    services.push({ name: 'api', running: api });
    logger.info(
      { ingestPort: ingest.port, apiPort: api.port, dataDir: resolve(dataDir) },
      'mamori is running',
    );
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { stop: stopAll };
}

/** `mamori ingest`: the ingest service alone. */
export async function startIngestService(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Stoppable> {
  return startIngest(env, logger.child({ service: 'ingest' }));
}

/** `mamori detector`: the detector alone, from the events topic to the alerts topic. */
export async function startDetectorService(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Stoppable> {
  return startDetector(env, logger.child({ service: 'detector' }));
}

/** `mamori store`: the store alone, from the bus into the warehouse. */
export async function startStoreService(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Stoppable> {
  // Loaded on demand: the store brings chDB's native library, which no other command needs.
  const { startStore } = await import('@mamori/store');
  return startStore(env, logger.child({ service: 'store' }));
}

/** `mamori defender`: the agent of this node, streaming to ingest. */
export async function startDefenderAgent(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<Stoppable> {
  // Loaded on demand: the platform's commands need none of the agent's sensors.
  const { startDefender } = await import('@mamori/defender');
  return startDefender(env, logger.child({ service: 'defender' }));
}

/** `mamori defender waas`: the inline WAF proxy in front of one application. */
export async function startDefenderWaas(
  argv: readonly string[],
  logger: Logger,
): Promise<Stoppable> {
  const { startWaasProxyCommand } = await import('@mamori/defender');
  return startWaasProxyCommand(argv, logger.child({ service: 'defender-waas' }));
}

/** `mamori api`: the GraphQL API alone, over the warehouse. */
export async function startApiService(env: NodeJS.ProcessEnv, logger: Logger): Promise<Stoppable> {
  // Loaded on demand, like the store: the API brings chDB, fastify and graphql.
  const { startApi } = await import('@mamori/api');
  return startApi(env, logger.child({ service: 'api' }));
}
