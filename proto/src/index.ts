export {
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
  createEventCodec,
  loadMamoriGrpc,
  protoType,
  type EventCodec,
} from './loader.js';
export { EventHeaders, Topics } from './topics.js';
export { MAX_POLICY_UPDATE_BYTES, MAX_SERVER_MESSAGE_BYTES } from './limits.js';
export { WireDecodeError, decodeEvent } from './wire/decode.js';
export type { ProtoGrpcType } from './generated/defender.generated.js';
export type {
  AgentMessage,
  AgentMessage__Output,
} from './generated/mamori/v1/AgentMessage.generated.js';
export type { Alert, Alert__Output } from './generated/mamori/v1/Alert.generated.js';
export type {
  AgentStatus,
  AgentStatus__Output,
} from './generated/mamori/v1/AgentStatus.generated.js';
export { AckStatus } from './generated/mamori/v1/AckStatus.generated.js';
export type { BatchAck, BatchAck__Output } from './generated/mamori/v1/BatchAck.generated.js';
export type { Command, Command__Output } from './generated/mamori/v1/Command.generated.js';
export type {
  CommandResult,
  CommandResult__Output,
} from './generated/mamori/v1/CommandResult.generated.js';
export type { Connection, Connection__Output } from './generated/mamori/v1/Connection.generated.js';
export type {
  DefenderServiceClient,
  DefenderServiceDefinition,
  DefenderServiceHandlers,
} from './generated/mamori/v1/DefenderService.generated.js';
export type { Event, Event__Output } from './generated/mamori/v1/Event.generated.js';
export type { EventBatch, EventBatch__Output } from './generated/mamori/v1/EventBatch.generated.js';
export type { Hello, Hello__Output } from './generated/mamori/v1/Hello.generated.js';
export type { Host, Host__Output } from './generated/mamori/v1/Host.generated.js';
export type {
  HttpRequest,
  HttpRequest__Output,
} from './generated/mamori/v1/HttpRequest.generated.js';
export { L4Protocol } from './generated/mamori/v1/L4Protocol.generated.js';
export type { Policy, Policy__Output } from './generated/mamori/v1/Policy.generated.js';
export { PolicyMode } from './generated/mamori/v1/PolicyMode.generated.js';
export type {
  WebApplicationPolicy,
  WebApplicationPolicy__Output,
} from './generated/mamori/v1/WebApplicationPolicy.generated.js';
export type {
  WaasException,
  WaasException__Output,
} from './generated/mamori/v1/WaasException.generated.js';
export type {
  WaasRateLimits,
  WaasRateLimits__Output,
} from './generated/mamori/v1/WaasRateLimits.generated.js';
export type { RuleTuning, RuleTuning__Output } from './generated/mamori/v1/RuleTuning.generated.js';
export type {
  RuleException,
  RuleException__Output,
} from './generated/mamori/v1/RuleException.generated.js';
export type {
  RuleSetting,
  RuleSetting__Output,
} from './generated/mamori/v1/RuleSetting.generated.js';
export type {
  RuleCatalog,
  RuleCatalog__Output,
} from './generated/mamori/v1/RuleCatalog.generated.js';
export type { RuleInfo, RuleInfo__Output } from './generated/mamori/v1/RuleInfo.generated.js';
export type {
  SkippedRuleInfo,
  SkippedRuleInfo__Output,
} from './generated/mamori/v1/SkippedRuleInfo.generated.js';
export type {
  PolicyUpdate,
  PolicyUpdate__Output,
} from './generated/mamori/v1/PolicyUpdate.generated.js';
export type { Process, Process__Output } from './generated/mamori/v1/Process.generated.js';
export type { Rejection, Rejection__Output } from './generated/mamori/v1/Rejection.generated.js';
export type {
  ScannerFinding,
  ScannerFinding__Output,
} from './generated/mamori/v1/ScannerFinding.generated.js';
export { Severity } from './generated/mamori/v1/Severity.generated.js';
export type {
  ServerMessage,
  ServerMessage__Output,
} from './generated/mamori/v1/ServerMessage.generated.js';
export type { Welcome, Welcome__Output } from './generated/mamori/v1/Welcome.generated.js';
export type { Workload, Workload__Output } from './generated/mamori/v1/Workload.generated.js';
