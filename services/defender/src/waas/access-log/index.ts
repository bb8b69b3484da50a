export {
  REDACTED,
  type AccessLogEntry,
  type AccessLogParser,
  type AccessLogParseResult,
} from './entry.js';
export { parseNginxJsonLine } from './nginx.js';
export { parseEnvoyJsonLine, parseEnvoyTextLine } from './envoy.js';
export {
  ACCESS_LOG_FORMATS,
  accessLogParser,
  parseAccessLogLine,
  parseAutoLine,
  type AccessLogFormat,
} from './parse.js';
export { entryToRequest, entryToSeen, type AccessLogRequest } from './request.js';
export {
  createAccessLogSensor,
  type AccessLogOrigin,
  type AccessLogSensor,
  type AccessLogSensorOptions,
  type AccessLogSource,
  type AccessLogStats,
} from './sensor.js';
export { createAccessLogAnalyzer } from './analyze.js';
