export { parseCgroup, type CgroupContainer } from './cgroup.js';
export { bootTimeSeconds, clockTicksPerSecond, startTicksToUnixMicros } from './clock.js';
export {
  createExeHasher,
  isFileIdentity,
  type ExeHasher,
  type ExeHasherOptions,
  type ExeHashStats,
} from './exe-hash.js';
export { rootOverlayUpperDir } from './mountinfo.js';
export { DEFAULT_HOST_ROOT, DEFAULT_PROC_ROOT, type ProcfsOptions } from './options.js';
export {
  ProcfsReader,
  listPids,
  processStartTime,
  readProcess,
  type ProcessAncestor,
  type ProcessSnapshot,
  type ReadProcessOptions,
} from './process.js';
export {
  parseCapHex,
  parseLoginUid,
  parseStat,
  parseStatus,
  splitCmdline,
  ttyName,
  type ProcStat,
  type ProcStatus,
} from './stat.js';
export { fdTypeFromLink, resolveSocketTypes } from './streams.js';
export { parsePasswd, UserResolver } from './users.js';
export { WorkloadReader, parseImageReference, readWorkload } from './workload.js';
