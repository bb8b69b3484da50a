export type {
  EventPriority,
  Sensor,
  SensorContext,
  SensorStatus,
} from './sensors/sensor.js';
