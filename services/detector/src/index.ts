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
export { DETECTOR_STATE_TOPIC } from './config.js';
export {
  CHECKPOINT_OFFSET_HEADER,
  createCheckpointStore,
  type CheckpointStore,
  type CheckpointStoreOptions,
  type FoundCheckpoint,
} from './bus/checkpoints.js';
export { canonicalAddress } from './stateful/address.js';
export {
  createPortScanRule,
  PORT_SCAN_RULE_ID,
  type PortScanOptions,
} from './stateful/port-scan.js';
export {
  CHECKPOINT_FORMAT,
  createPartitionState,
  parseCheckpoint,
  serializePartitionState,
  statefulAlertId,
  type Checkpoint,
  type PartitionState,
  type StatefulHooks,
  type StatefulInstance,
  type StatefulRule,
} from './stateful/rule.js';
export {
  createDistinctWindows,
  type Crossing,
  type DistinctWindowOptions,
  type DistinctWindows,
  type ObserveOutcome,
  type SerializedKey,
  type SerializedWindows,
} from './stateful/window.js';
