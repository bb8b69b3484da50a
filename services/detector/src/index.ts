export { buildApp, type DetectorApp, type DetectorDeps, type ReloadResult } from './app.js';
export { readDetectorConfig, type DetectorConfig } from './config.js';
export {
  ALERT_SEVERITIES,
  alertId,
  createAlertCodec,
  toAlert,
  type AlertCodec,
} from './detection/alert.js';
export {
  createRuleLoader,
  reloadVerdict,
  type LoadedRules,
  type ReloadVerdict,
  type RuleLoader,
  type RuleLoaderOptions,
} from './rules/load.js';
export { watchRuleFiles, type RuleWatcher, type RuleWatcherOptions } from './rules/watch.js';
export {
  createDetectorMetrics,
  type DetectorMetrics,
  type DetectorMetricsOptions,
} from './metrics.js';
export { startDetector, type RunningDetector, type SharedDetectorResources } from './run.js';
