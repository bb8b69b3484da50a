import { createBus, type Bus } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import { openWarehouse, type Warehouse } from '@mamori/warehouse';
import { buildApp, type StoreApp } from './app.js';
import { readStoreConfig } from './config.js';

export interface RunningStore {
  app: StoreApp;
  warehouse: Warehouse;
  /** Stops storing (flushing and committing what is buffered), then closes bus and warehouse. */
  stop(): Promise<void>;
}

/**
 * The composition of the store from the environment: config, bus, warehouse (migrated),
 * consumer. With `shared.bus` (the platform in one process) the store uses that bus and
 * leaves closing it to its owner.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startStore(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: { bus?: Bus } = {},
): Promise<RunningStore> {
  const config = readStoreConfig(env);
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
  const app = buildApp({ config, bus, warehouse, logger });
  try {
    await app.start();
  } catch (err) {
    await app.stop(0);
    await warehouse.close();
    await closeBus();
    throw err;
  }
  return {
    app,
    warehouse,
    async stop() {
      await app.stop();
      await warehouse.close();
      await closeBus();
    },
  };
}
