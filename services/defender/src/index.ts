export { buildDefender, type DefenderApp, type DefenderDeps, type DefenderStats } from './app.js';
export {
  readDefenderConfig,
  SENSOR_NAMES,
  type DefenderConfig,
  type SensorName,
} from './config.js';
export {
  createEnforcer,
  createNodeActions,
  type Enforcer,
  type NodeActions,
} from './enforce/enforcer.js';
export { openSpool, type Spool, type SpoolStats } from './spool/spool.js';
export { sensorsOf, startDefender, type RunningDefender } from './run.js';
export type { EventPriority, Sensor, SensorContext, SensorStatus } from './sensors/sensor.js';
export {
  createProcessSensor,
  type ProcessSensor,
  type ProcessSensorOptions,
  type ProcessSensorStats,
} from './sensors/process/index.js';
export {
  createNetworkSensor,
  type NetworkSensor,
  type NetworkSensorOptions,
} from './sensors/network/network-sensor.js';
export {
  createFileSensor,
  DEFAULT_SENSITIVE_PATHS,
  type FileSensor,
  type FileSensorOptions,
} from './sensors/file/file-sensor.js';
export {
  createFalcoSensor,
  createTetragonSensor,
  type ImportSensor,
  type ImportSensorOptions,
  type ImportSource,
} from './sensors/import/import-sensor.js';
export { falcoToEvent } from './sensors/import/falco.js';
export { tetragonToEvent } from './sensors/import/tetragon.js';
export {
  listPids,
  processStartTime,
  ProcfsReader,
  readProcess,
  readWorkload,
  WorkloadReader,
  type ProcfsOptions,
  type ReadProcessOptions,
} from './procfs/index.js';
export {
  createWaasProxy,
  EVENT_ID_HEADER,
  type WaasProxy,
  type WaasProxyOptions,
  type WaasProxyStats,
} from './waas/proxy.js';
export {
  createWaasEngine,
  DEFAULT_SAMPLE_CLEAN,
  hostOf,
  isReportable,
  normalizedPath,
  type LocalWaasSettings,
  type WaasEngine,
  type WaasJudgement,
  type WaasMode,
  type WebApp,
} from './waas/engine.js';
export {
  createWaasProxySensor,
  type WaasProxySensor,
  type WaasProxySensorOptions,
} from './waas/sensor.js';
export {
  priorityOfHttpEvent,
  toHttpEvent,
  type HttpEventContext,
  type SeenRequest,
} from './waas/event.js';
export { parseWaasProxyArgs, startWaasProxyCommand, WAAS_PROXY_USAGE } from './waas/command.js';
