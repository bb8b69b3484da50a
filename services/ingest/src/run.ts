import { createBus, type Bus } from '@mamori/bus';
import { startOpsServer, type Logger, type OpsServer } from '@mamori/common';
import { buildApp, type IngestApp } from './app.js';
import { readIngestConfig } from './config.js';

export interface RunningIngest {
  app: IngestApp;
  port: number;
  /** The port of /healthz, /readyz and /metrics; absent when ingest serves none of its own. */
  opsPort?: number;
  /** Stops serving, then closes the bus. */
  stop(): Promise<void>;
}

export interface SharedIngestResources {
  /** The process's bus; ingest leaves closing it to its owner. */
  bus?: Bus;
  /**
   * Whether ingest serves /healthz, /readyz and /metrics itself (and collects process
   * metrics). `mamori start` turns it off and serves `app.metrics` and `app.readiness` on the
   * API instead. @default true
   */
  opsServer?: boolean;
}

/**
 * The composition of ingest from the environment: config, bus, ops endpoints, gRPC server.
 * With `shared.bus` (the platform in one process) ingest uses that bus and leaves closing it
 * to its owner.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startIngest(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: SharedIngestResources = {},
): Promise<RunningIngest> {
  const config = readIngestConfig(env);
  const withOps = shared.opsServer ?? true;
  const ownsBus = shared.bus === undefined;
  const bus = shared.bus ?? (await createBus(config.bus, logger.child({ component: 'bus' })));
  const app = buildApp({ config, bus, logger, processMetrics: withOps });
  let ops: OpsServer | undefined;
  let port: number;
  try {
    // Before the gRPC server: liveness answers while ingest starts, readiness says it is not.
    if (withOps) {
      ops = await startOpsServer({
        ...config.ops,
        ready: () => app.readiness(),
        metrics: app.metrics.registry,
        logger,
      });
      logger.info({ host: config.ops.host, port: ops.port }, 'ingest ops endpoints listening');
    }
    ({ port } = await app.start());
  } catch (err) {
    await ops?.close();
    if (ownsBus) await bus.close();
    throw err;
  }
  return {
    app,
    port,
    ...(ops ? { opsPort: ops.port } : {}),
    async stop() {
      await app.stop();
      await ops?.close();
      if (ownsBus) await bus.close();
    },
  };
}
