import { createBus, type Bus } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import { buildApp, type IngestApp } from './app.js';
import { readIngestConfig } from './config.js';

export interface RunningIngest {
  app: IngestApp;
  port: number;
  /** Stops serving, then closes the bus. */
  stop(): Promise<void>;
}

/**
 * The composition of ingest from the environment: config, bus, gRPC server. With `shared.bus`
 * (the platform in one process) ingest uses that bus and leaves closing it to its owner.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startIngest(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: { bus?: Bus } = {},
): Promise<RunningIngest> {
  const config = readIngestConfig(env);
  const ownsBus = shared.bus === undefined;
  const bus = shared.bus ?? (await createBus(config.bus, logger.child({ component: 'bus' })));
  const app = buildApp({ config, bus, logger });
  let port: number;
  try {
    ({ port } = await app.start());
  } catch (err) {
    if (ownsBus) await bus.close();
    throw err;
  }
  return {
    app,
    port,
    async stop() {
      await app.stop();
      if (ownsBus) await bus.close();
    },
  };
}
