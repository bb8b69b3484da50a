import { createBus, type Bus } from '@mamori/bus';
import {
  allReady,
  startOpsServer,
  type Logger,
  type OpsServer,
  type ReadinessCheck,
} from '@mamori/common';
import { openWarehouse, type Warehouse } from '@mamori/warehouse';
import { buildApp, type StoreApp } from './app.js';
import { readStoreConfig } from './config.js';

export interface RunningStore {
  app: StoreApp;
  warehouse: Warehouse;
  /** The port of /healthz, /readyz and /metrics; absent when the store serves none of its own. */
  opsPort?: number;
  /**
   * Ready when the store consumes, its last inserts did not fail, and ClickHouse answers a
   * ping (an idle store would otherwise say ready with ClickHouse down).
   */
  ready: ReadinessCheck;
  /** Stops storing (flushing and committing what is buffered), then closes bus and warehouse. */
  stop(): Promise<void>;
}

export interface SharedStoreResources {
  /** The process's bus; the store leaves closing it to its owner. */
  bus?: Bus;
  /**
   * Whether the store serves /healthz, /readyz and /metrics itself (and collects process
   * metrics). `mamori start` turns it off and serves `app.metrics` and `app.readiness` on the
   * API instead. @default true
   */
  opsServer?: boolean;
}

/**
 * The composition of the store from the environment: config, bus, warehouse (migrated), ops
 * endpoints, consumer. With `shared.bus` (the platform in one process) the store uses that
 * bus and leaves closing it to its owner.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startStore(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: SharedStoreResources = {},
): Promise<RunningStore> {
  const config = readStoreConfig(env);
  const withOps = shared.opsServer ?? true;
  const ownsBus = shared.bus === undefined;
  const bus = shared.bus ?? (await createBus(config.bus, logger.child({ component: 'bus' })));
  const closeBus = async (): Promise<void> => {
    if (ownsBus) await bus.close();
  };
  let warehouse: Warehouse;
  try {
    ({ warehouse } = await openWarehouse(config.warehouse, {
      logger: logger.child({ component: 'warehouse' }),
    }));
  } catch (err) {
    await closeBus();
    throw err;
  }
  const app = buildApp({ config, bus, warehouse, logger, processMetrics: withOps });
  const ready = allReady({
    consumer: () => app.readiness(),
    warehouse: async () =>
      (await warehouse.client.ping()).success
        ? { ready: true }
        : { ready: false, reason: 'ClickHouse does not answer' },
  });
  let ops: OpsServer | undefined;
  try {
    // Before consuming: liveness answers while the store starts, readiness says it is not.
    if (withOps) {
      ops = await startOpsServer({
        ...config.ops,
        ready,
        metrics: app.metrics.registry,
        logger,
      });
      logger.info({ host: config.ops.host, port: ops.port }, 'store ops endpoints listening');
    }
    await app.start();
  } catch (err) {
    await app.stop(0);
    await ops?.close();
    await warehouse.close();
    await closeBus();
    throw err;
  }
  return {
    app,
    warehouse,
    ready,
    ...(ops ? { opsPort: ops.port } : {}),
    async stop() {
      await app.stop();
      await ops?.close();
      await warehouse.close();
      await closeBus();
    },
  };
}
