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
