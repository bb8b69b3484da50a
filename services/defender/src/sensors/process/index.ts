export {
  createProcessSensor,
  type ProcessSensor,
  type ProcessSensorOptions,
  type ProcessSensorStats,
} from './process-sensor.js';
export { parseHelperLine, type HelperEvent } from './helper-events.js';
export { LineSplitter } from './line-splitter.js';
