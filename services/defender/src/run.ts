import type { Logger, Stoppable } from '@mamori/common';
import { buildDefender, type DefenderApp } from './app.js';
import { readDefenderConfig, type DefenderConfig } from './config.js';
import { createNodeActions } from './enforce/enforcer.js';
import { processStartTime } from './procfs/index.js';
import { createFileSensor } from './sensors/file/file-sensor.js';
import { createFalcoSensor, createTetragonSensor } from './sensors/import/import-sensor.js';
import { createNetworkSensor } from './sensors/network/network-sensor.js';
import { createProcessSensor } from './sensors/process/process-sensor.js';
import type { Sensor } from './sensors/sensor.js';
import { createAccessLogAnalyzer, createAccessLogSensor } from './waas/access-log/index.js';
import { createWaasEngine, type WaasEngine } from './waas/engine.js';
import { createWaasProxySensor } from './waas/sensor.js';

export interface RunningDefender extends Stoppable {
  app: DefenderApp;
}

/** The sensors the configuration asks for, in a stable order. */
export function sensorsOf(config: Readonly<DefenderConfig>, waas?: WaasEngine): Sensor[] {
  const sensors: Sensor[] = [];
  for (const name of config.sensors) {
    if (name === 'process') {
      sensors.push(
        createProcessSensor({
          ...config.procfs,
          pollIntervalMs: config.processPollMs,
          exeHashMaxBytes: config.exeHashMaxBytes,
        }),
      );
    } else if (name === 'network') {
      sensors.push(createNetworkSensor({ procfs: config.procfs }));
    } else if (name === 'falco') {
      if (config.falco.file !== undefined) {
        sensors.push(createFalcoSensor({ source: { kind: 'file', path: config.falco.file } }));
      }
      if (config.falco.listen !== undefined) {
        const at = config.falco.listen.lastIndexOf(':');
        sensors.push(
          createFalcoSensor({
            source: {
              kind: 'http',
              host: config.falco.listen.slice(0, at),
              port: Number(config.falco.listen.slice(at + 1)),
            },
          }),
        );
      }
    } else if (name === 'tetragon' && config.tetragon.file !== undefined) {
      sensors.push(createTetragonSensor({ source: { kind: 'file', path: config.tetragon.file } }));
    } else if (name === 'file') {
      sensors.push(
        createFileSensor(config.sensitivePaths.length > 0 ? { paths: config.sensitivePaths } : {}),
      );
    } else if (name === 'waas' && waas !== undefined) {
      sensors.push(createWaasProxySensor({ proxies: config.waas.proxies, engine: waas }));
    } else if (name === 'access-log' && waas !== undefined) {
      sensors.push(
        createAccessLogSensor({
          sources: config.waas.accessLogs,
          analyze: createAccessLogAnalyzer(waas),
        }),
      );
    }
  }
  return sensors;
}

/** The engine that judges web requests of the node's proxies and access logs. */
export function waasEngineOf(config: Readonly<DefenderConfig>, logger: Logger): WaasEngine {
  return createWaasEngine({
    local: config.waas.local,
    logger: logger.child({ component: 'waas' }),
    enforcePolicies: config.enforce,
  });
}

/**
 * `mamori defender`: the agent from the environment. Sensors that cannot run here are logged
 * and left out; the others run.
 * @throws MamoriError Config when the environment is invalid (every problem listed).
 */
export async function startDefender(
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<RunningDefender> {
  const config = readDefenderConfig(env);
  const waas = waasEngineOf(config, logger);
  const app = buildDefender({
    config,
    logger,
    sensors: sensorsOf(config, waas),
    actions: createNodeActions((pid) => processStartTime(pid, config.procfs)),
    waas,
  });
  await app.start();
  const stats = app.stats();
  logger.info(
    {
      ingest: config.ingest,
      agentId: config.agentId,
      sensors: stats.sensors.map((s) => `${s.sensor} (${s.mode})`),
      unavailable: stats.unavailable,
      spool: config.spool.dir,
      enforce: config.enforce,
    },
    'defender running',
  );
  return { app, stop: () => app.stop() };
}
