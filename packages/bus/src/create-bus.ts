import type { Logger } from '@mamori/common';
import type { BusConfig } from './config.js';
import { createEmbeddedBus } from './embedded/embedded-bus.js';
import { createKafkaBus } from './kafka/kafka-bus.js';
import type { Bus } from './types.js';

/**
 * The bus a config names: the embedded log (opened and recovered before this resolves) or
 * Kafka (connecting lazily on first use).
 * @throws MamoriError BusLocked when another process holds the embedded log's directory;
 *   BusCorrupt when a closed segment fails its checksums.
 */
export async function createBus(config: BusConfig, logger: Logger): Promise<Bus> {
  if (config.kind === 'kafka') {
    return createKafkaBus({
      brokers: config.brokers,
      clientId: config.clientId,
      producerThreads: config.producerThreads,
      logger,
    });
  }
  return createEmbeddedBus({ dir: config.dir, fsync: config.fsync, logger });
}
