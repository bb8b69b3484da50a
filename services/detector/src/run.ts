import { createBus, type Bus } from '@mamori/bus';
import { startOpsServer, type Logger, type OpsServer, type ReadinessCheck } from '@mamori/common';
import { buildApp, type DetectorApp } from './app.js';
import { readDetectorConfig } from './config.js';

export interface RunningDetector {
  app: DetectorApp;
  /** The port of /healthz, /readyz and /metrics; absent when it serves none of its own. */
  opsPort?: number;
  /** Ready while the detector consumes and the bus acknowledges its alerts. */
  ready: ReadinessCheck;
  /** Stops detecting (the batch in hand produces and commits), then closes its bus. */
  stop(): Promise<void>;
}

export interface SharedDetectorResources {
  /** The process's bus; the detector leaves closing it to its owner. */
  bus?: Bus;
  /**
   * Whether the detector serves /healthz, /readyz and /metrics itself (and collects process
   * metrics). `mamori start` turns it off and serves `app.metrics` and `app.readiness` on the
   * API instead. @default true
   */
  opsServer?: boolean;
}

/**
 * The composition of the detector from the environment: config, bus, rules, ops endpoints,
 * consumer. With `shared.bus` (the platform in one process) it uses that bus and leaves
 * closing it to its owner. Problems in rule files are logged, never fatal.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startDetector(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  shared: SharedDetectorResources = {},
): Promise<RunningDetector> {
  const config = readDetectorConfig(env);
  const withOps = shared.opsServer ?? true;
  const ownsBus = shared.bus === undefined;
  const bus = shared.bus ?? (await createBus(config.bus, logger.child({ component: 'bus' })));
  const closeBus = async (): Promise<void> => {
    if (ownsBus) await bus.close();
  };
  const app = buildApp({ config, bus, logger, processMetrics: withOps });
  const ready: ReadinessCheck = () => app.readiness();
  let ops: OpsServer | undefined;
  try {
    // Before consuming: liveness answers while the detector starts, readiness says it is not.
    if (withOps) {
      ops = await startOpsServer({ ...config.ops, ready, metrics: app.metrics.registry, logger });
      logger.info({ host: config.ops.host, port: ops.port }, 'detector ops endpoints listening');
    }
    await app.start();
  } catch (err) {
    await app.stop(0);
    await ops?.close();
    await closeBus();
    throw err;
  }
  return {
    app,
    ready,
    ...(ops ? { opsPort: ops.port } : {}),
    async stop() {
      await app.stop();
      await ops?.close();
      await closeBus();
    },
  };
}
