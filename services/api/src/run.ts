import type { Logger } from '@mamori/common';
import { openWarehouse, type Warehouse } from '@mamori/warehouse';
import { buildApp, type ApiApp, type ApiDeps } from './app.js';
import { readApiConfig } from './config.js';

export interface RunningApi {
  app: ApiApp;
  warehouse: Warehouse;
  port: number;
  /** Stops serving, then closes the warehouse. */
  stop(): Promise<void>;
}

/**
 * The composition of the API from the environment: config, warehouse (migrated), HTTP server.
 * With `shared.colocated` (the platform in one process) its probes and metrics cover the
 * other services too.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startApi(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: Pick<ApiDeps, 'colocated'> = {},
): Promise<RunningApi> {
  const config = readApiConfig(env);
  const { warehouse } = await openWarehouse(config.warehouse, {
    logger: logger.child({ component: 'warehouse' }),
  });
  const app = buildApp({
    config,
    warehouse,
    ping: async () => (await warehouse.client.ping()).success,
    logger,
    ...shared,
  });
  let port: number;
  try {
    ({ port } = await app.start());
  } catch (err) {
    await app.stop();
    await warehouse.close();
    throw err;
  }
  return {
    app,
    warehouse,
    port,
    async stop() {
      await app.stop();
      await warehouse.close();
    },
  };
}
