import { createBus, type Bus } from '@mamori/bus';
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
 * The composition of the API from the environment: config, warehouse (migrated), bus, HTTP
 * server. With `shared.colocated` (the platform in one process) its probes and metrics cover
 * the other services too; with `shared.bus` it uses that bus (and leaves it open), else the
 * one `MAMORI_BUS` configures, if any, which it closes on stop.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startApi(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: Pick<ApiDeps, 'colocated'> & { bus?: Bus } = {},
): Promise<RunningApi> {
  const config = readApiConfig(env);
  const { warehouse } = await openWarehouse(config.warehouse, {
    logger: logger.child({ component: 'warehouse' }),
  });
  let ownBus: Bus | undefined;
  if (shared.bus === undefined && config.bus !== undefined) {
    try {
      ownBus = await createBus(config.bus, logger.child({ component: 'bus' }));
    } catch (err) {
      await warehouse.close();
      throw err;
    }
  }
  const bus = shared.bus ?? ownBus;
  const app = buildApp({
    config,
    warehouse,
    ping: async () => (await warehouse.client.ping()).success,
    logger,
    ...(shared.colocated ? { colocated: shared.colocated } : {}),
    ...(bus ? { bus } : {}),
    policiesTopic: config.policiesTopic,
    tuningTopics: config.tuningTopics,
  });
  const stop = async (): Promise<void> => {
    await app.stop();
    await ownBus?.close();
    await warehouse.close();
  };
  let port: number;
  try {
    ({ port } = await app.start());
  } catch (err) {
    await stop();
    throw err;
  }
  return { app, warehouse, port, stop };
}
