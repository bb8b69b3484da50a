import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentMessage as _mamori_v1_AgentMessage, AgentMessage__Output as _mamori_v1_AgentMessage__Output } from './mamori/v1/AgentMessage.generated.js';
import type { AgentStatus as _mamori_v1_AgentStatus, AgentStatus__Output as _mamori_v1_AgentStatus__Output } from './mamori/v1/AgentStatus.generated.js';
import type { Alert as _mamori_v1_Alert, Alert__Output as _mamori_v1_Alert__Output } from './mamori/v1/Alert.generated.js';
import type { BatchAck as _mamori_v1_BatchAck, BatchAck__Output as _mamori_v1_BatchAck__Output } from './mamori/v1/BatchAck.generated.js';
import type { Command as _mamori_v1_Command, Command__Output as _mamori_v1_Command__Output } from './mamori/v1/Command.generated.js';
import type { CommandResult as _mamori_v1_CommandResult, CommandResult__Output as _mamori_v1_CommandResult__Output } from './mamori/v1/CommandResult.generated.js';
import type { Connection as _mamori_v1_Connection, Connection__Output as _mamori_v1_Connection__Output } from './mamori/v1/Connection.generated.js';
import type { DefenderServiceClient as _mamori_v1_DefenderServiceClient, DefenderServiceDefinition as _mamori_v1_DefenderServiceDefinition } from './mamori/v1/DefenderService.generated.js';
import type { DnsQuery as _mamori_v1_DnsQuery, DnsQuery__Output as _mamori_v1_DnsQuery__Output } from './mamori/v1/DnsQuery.generated.js';
import type { EnforcementAction as _mamori_v1_EnforcementAction, EnforcementAction__Output as _mamori_v1_EnforcementAction__Output } from './mamori/v1/EnforcementAction.generated.js';
import type { Event as _mamori_v1_Event, Event__Output as _mamori_v1_Event__Output } from './mamori/v1/Event.generated.js';
import type { EventBatch as _mamori_v1_EventBatch, EventBatch__Output as _mamori_v1_EventBatch__Output } from './mamori/v1/EventBatch.generated.js';
import type { ExceptionValues as _mamori_v1_ExceptionValues, ExceptionValues__Output as _mamori_v1_ExceptionValues__Output } from './mamori/v1/ExceptionValues.generated.js';
import type { FdDup as _mamori_v1_FdDup, FdDup__Output as _mamori_v1_FdDup__Output } from './mamori/v1/FdDup.generated.js';
import type { FileDelete as _mamori_v1_FileDelete, FileDelete__Output as _mamori_v1_FileDelete__Output } from './mamori/v1/FileDelete.generated.js';
import type { FileLink as _mamori_v1_FileLink, FileLink__Output as _mamori_v1_FileLink__Output } from './mamori/v1/FileLink.generated.js';
import type { FileOpen as _mamori_v1_FileOpen, FileOpen__Output as _mamori_v1_FileOpen__Output } from './mamori/v1/FileOpen.generated.js';
import type { FileRename as _mamori_v1_FileRename, FileRename__Output as _mamori_v1_FileRename__Output } from './mamori/v1/FileRename.generated.js';
import type { FileSymlink as _mamori_v1_FileSymlink, FileSymlink__Output as _mamori_v1_FileSymlink__Output } from './mamori/v1/FileSymlink.generated.js';
import type { FileWrite as _mamori_v1_FileWrite, FileWrite__Output as _mamori_v1_FileWrite__Output } from './mamori/v1/FileWrite.generated.js';
import type { Hello as _mamori_v1_Hello, Hello__Output as _mamori_v1_Hello__Output } from './mamori/v1/Hello.generated.js';
import type { Host as _mamori_v1_Host, Host__Output as _mamori_v1_Host__Output } from './mamori/v1/Host.generated.js';
import type { HttpHeader as _mamori_v1_HttpHeader, HttpHeader__Output as _mamori_v1_HttpHeader__Output } from './mamori/v1/HttpHeader.generated.js';
import type { HttpRequest as _mamori_v1_HttpRequest, HttpRequest__Output as _mamori_v1_HttpRequest__Output } from './mamori/v1/HttpRequest.generated.js';
import type { HttpResponse as _mamori_v1_HttpResponse, HttpResponse__Output as _mamori_v1_HttpResponse__Output } from './mamori/v1/HttpResponse.generated.js';
import type { KernelModuleLoad as _mamori_v1_KernelModuleLoad, KernelModuleLoad__Output as _mamori_v1_KernelModuleLoad__Output } from './mamori/v1/KernelModuleLoad.generated.js';
import type { KillProcess as _mamori_v1_KillProcess, KillProcess__Output as _mamori_v1_KillProcess__Output } from './mamori/v1/KillProcess.generated.js';
import type { NetworkAccept as _mamori_v1_NetworkAccept, NetworkAccept__Output as _mamori_v1_NetworkAccept__Output } from './mamori/v1/NetworkAccept.generated.js';
import type { NetworkConnect as _mamori_v1_NetworkConnect, NetworkConnect__Output as _mamori_v1_NetworkConnect__Output } from './mamori/v1/NetworkConnect.generated.js';
import type { NetworkDestination as _mamori_v1_NetworkDestination, NetworkDestination__Output as _mamori_v1_NetworkDestination__Output } from './mamori/v1/NetworkDestination.generated.js';
import type { NetworkListen as _mamori_v1_NetworkListen, NetworkListen__Output as _mamori_v1_NetworkListen__Output } from './mamori/v1/NetworkListen.generated.js';
import type { NetworkSocket as _mamori_v1_NetworkSocket, NetworkSocket__Output as _mamori_v1_NetworkSocket__Output } from './mamori/v1/NetworkSocket.generated.js';
import type { Policy as _mamori_v1_Policy, Policy__Output as _mamori_v1_Policy__Output } from './mamori/v1/Policy.generated.js';
import type { PolicyUpdate as _mamori_v1_PolicyUpdate, PolicyUpdate__Output as _mamori_v1_PolicyUpdate__Output } from './mamori/v1/PolicyUpdate.generated.js';
import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from './mamori/v1/Process.generated.js';
import type { ProcessAncestor as _mamori_v1_ProcessAncestor, ProcessAncestor__Output as _mamori_v1_ProcessAncestor__Output } from './mamori/v1/ProcessAncestor.generated.js';
import type { ProcessExec as _mamori_v1_ProcessExec, ProcessExec__Output as _mamori_v1_ProcessExec__Output } from './mamori/v1/ProcessExec.generated.js';
import type { ProcessExit as _mamori_v1_ProcessExit, ProcessExit__Output as _mamori_v1_ProcessExit__Output } from './mamori/v1/ProcessExit.generated.js';
import type { ProcessPtrace as _mamori_v1_ProcessPtrace, ProcessPtrace__Output as _mamori_v1_ProcessPtrace__Output } from './mamori/v1/ProcessPtrace.generated.js';
import type { Rejection as _mamori_v1_Rejection, Rejection__Output as _mamori_v1_Rejection__Output } from './mamori/v1/Rejection.generated.js';
import type { RuleCatalog as _mamori_v1_RuleCatalog, RuleCatalog__Output as _mamori_v1_RuleCatalog__Output } from './mamori/v1/RuleCatalog.generated.js';
import type { RuleException as _mamori_v1_RuleException, RuleException__Output as _mamori_v1_RuleException__Output } from './mamori/v1/RuleException.generated.js';
import type { RuleInfo as _mamori_v1_RuleInfo, RuleInfo__Output as _mamori_v1_RuleInfo__Output } from './mamori/v1/RuleInfo.generated.js';
import type { RuleSetting as _mamori_v1_RuleSetting, RuleSetting__Output as _mamori_v1_RuleSetting__Output } from './mamori/v1/RuleSetting.generated.js';
import type { RuleTuning as _mamori_v1_RuleTuning, RuleTuning__Output as _mamori_v1_RuleTuning__Output } from './mamori/v1/RuleTuning.generated.js';
import type { ScannerFinding as _mamori_v1_ScannerFinding, ScannerFinding__Output as _mamori_v1_ScannerFinding__Output } from './mamori/v1/ScannerFinding.generated.js';
import type { ServerMessage as _mamori_v1_ServerMessage, ServerMessage__Output as _mamori_v1_ServerMessage__Output } from './mamori/v1/ServerMessage.generated.js';
import type { SkippedRuleInfo as _mamori_v1_SkippedRuleInfo, SkippedRuleInfo__Output as _mamori_v1_SkippedRuleInfo__Output } from './mamori/v1/SkippedRuleInfo.generated.js';
import type { StopContainer as _mamori_v1_StopContainer, StopContainer__Output as _mamori_v1_StopContainer__Output } from './mamori/v1/StopContainer.generated.js';
import type { WaasException as _mamori_v1_WaasException, WaasException__Output as _mamori_v1_WaasException__Output } from './mamori/v1/WaasException.generated.js';
import type { WaasRateLimits as _mamori_v1_WaasRateLimits, WaasRateLimits__Output as _mamori_v1_WaasRateLimits__Output } from './mamori/v1/WaasRateLimits.generated.js';
import type { WebApplicationPolicy as _mamori_v1_WebApplicationPolicy, WebApplicationPolicy__Output as _mamori_v1_WebApplicationPolicy__Output } from './mamori/v1/WebApplicationPolicy.generated.js';
import type { Welcome as _mamori_v1_Welcome, Welcome__Output as _mamori_v1_Welcome__Output } from './mamori/v1/Welcome.generated.js';
import type { Workload as _mamori_v1_Workload, Workload__Output as _mamori_v1_Workload__Output } from './mamori/v1/Workload.generated.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  mamori: {
    v1: {
      AckStatus: EnumTypeDefinition
      AgentMessage: MessageTypeDefinition<_mamori_v1_AgentMessage, _mamori_v1_AgentMessage__Output>
      AgentStatus: MessageTypeDefinition<_mamori_v1_AgentStatus, _mamori_v1_AgentStatus__Output>
      Alert: MessageTypeDefinition<_mamori_v1_Alert, _mamori_v1_Alert__Output>
      BatchAck: MessageTypeDefinition<_mamori_v1_BatchAck, _mamori_v1_BatchAck__Output>
      Command: MessageTypeDefinition<_mamori_v1_Command, _mamori_v1_Command__Output>
      CommandResult: MessageTypeDefinition<_mamori_v1_CommandResult, _mamori_v1_CommandResult__Output>
      Connection: MessageTypeDefinition<_mamori_v1_Connection, _mamori_v1_Connection__Output>
      DefenderService: SubtypeConstructor<typeof grpc.Client, _mamori_v1_DefenderServiceClient> & { service: _mamori_v1_DefenderServiceDefinition }
      DnsQuery: MessageTypeDefinition<_mamori_v1_DnsQuery, _mamori_v1_DnsQuery__Output>
      EnforcementAction: MessageTypeDefinition<_mamori_v1_EnforcementAction, _mamori_v1_EnforcementAction__Output>
      Event: MessageTypeDefinition<_mamori_v1_Event, _mamori_v1_Event__Output>
      EventBatch: MessageTypeDefinition<_mamori_v1_EventBatch, _mamori_v1_EventBatch__Output>
      ExceptionValues: MessageTypeDefinition<_mamori_v1_ExceptionValues, _mamori_v1_ExceptionValues__Output>
      FdDup: MessageTypeDefinition<_mamori_v1_FdDup, _mamori_v1_FdDup__Output>
      FileDelete: MessageTypeDefinition<_mamori_v1_FileDelete, _mamori_v1_FileDelete__Output>
      FileLink: MessageTypeDefinition<_mamori_v1_FileLink, _mamori_v1_FileLink__Output>
      FileOpen: MessageTypeDefinition<_mamori_v1_FileOpen, _mamori_v1_FileOpen__Output>
      FileRename: MessageTypeDefinition<_mamori_v1_FileRename, _mamori_v1_FileRename__Output>
      FileSymlink: MessageTypeDefinition<_mamori_v1_FileSymlink, _mamori_v1_FileSymlink__Output>
      FileWrite: MessageTypeDefinition<_mamori_v1_FileWrite, _mamori_v1_FileWrite__Output>
      Hello: MessageTypeDefinition<_mamori_v1_Hello, _mamori_v1_Hello__Output>
      Host: MessageTypeDefinition<_mamori_v1_Host, _mamori_v1_Host__Output>
      HttpHeader: MessageTypeDefinition<_mamori_v1_HttpHeader, _mamori_v1_HttpHeader__Output>
      HttpRequest: MessageTypeDefinition<_mamori_v1_HttpRequest, _mamori_v1_HttpRequest__Output>
      HttpResponse: MessageTypeDefinition<_mamori_v1_HttpResponse, _mamori_v1_HttpResponse__Output>
      KernelModuleLoad: MessageTypeDefinition<_mamori_v1_KernelModuleLoad, _mamori_v1_KernelModuleLoad__Output>
      KillProcess: MessageTypeDefinition<_mamori_v1_KillProcess, _mamori_v1_KillProcess__Output>
      L4Protocol: EnumTypeDefinition
      NetworkAccept: MessageTypeDefinition<_mamori_v1_NetworkAccept, _mamori_v1_NetworkAccept__Output>
      NetworkConnect: MessageTypeDefinition<_mamori_v1_NetworkConnect, _mamori_v1_NetworkConnect__Output>
      NetworkDestination: MessageTypeDefinition<_mamori_v1_NetworkDestination, _mamori_v1_NetworkDestination__Output>
      NetworkListen: MessageTypeDefinition<_mamori_v1_NetworkListen, _mamori_v1_NetworkListen__Output>
      NetworkSocket: MessageTypeDefinition<_mamori_v1_NetworkSocket, _mamori_v1_NetworkSocket__Output>
      Policy: MessageTypeDefinition<_mamori_v1_Policy, _mamori_v1_Policy__Output>
      PolicyMode: EnumTypeDefinition
      PolicyUpdate: MessageTypeDefinition<_mamori_v1_PolicyUpdate, _mamori_v1_PolicyUpdate__Output>
      Process: MessageTypeDefinition<_mamori_v1_Process, _mamori_v1_Process__Output>
      ProcessAncestor: MessageTypeDefinition<_mamori_v1_ProcessAncestor, _mamori_v1_ProcessAncestor__Output>
      ProcessExec: MessageTypeDefinition<_mamori_v1_ProcessExec, _mamori_v1_ProcessExec__Output>
      ProcessExit: MessageTypeDefinition<_mamori_v1_ProcessExit, _mamori_v1_ProcessExit__Output>
      ProcessPtrace: MessageTypeDefinition<_mamori_v1_ProcessPtrace, _mamori_v1_ProcessPtrace__Output>
      Rejection: MessageTypeDefinition<_mamori_v1_Rejection, _mamori_v1_Rejection__Output>
      RuleCatalog: MessageTypeDefinition<_mamori_v1_RuleCatalog, _mamori_v1_RuleCatalog__Output>
      RuleException: MessageTypeDefinition<_mamori_v1_RuleException, _mamori_v1_RuleException__Output>
      RuleInfo: MessageTypeDefinition<_mamori_v1_RuleInfo, _mamori_v1_RuleInfo__Output>
      RuleSetting: MessageTypeDefinition<_mamori_v1_RuleSetting, _mamori_v1_RuleSetting__Output>
      RuleTuning: MessageTypeDefinition<_mamori_v1_RuleTuning, _mamori_v1_RuleTuning__Output>
      ScannerFinding: MessageTypeDefinition<_mamori_v1_ScannerFinding, _mamori_v1_ScannerFinding__Output>
      ServerMessage: MessageTypeDefinition<_mamori_v1_ServerMessage, _mamori_v1_ServerMessage__Output>
      Severity: EnumTypeDefinition
      SkippedRuleInfo: MessageTypeDefinition<_mamori_v1_SkippedRuleInfo, _mamori_v1_SkippedRuleInfo__Output>
      StopContainer: MessageTypeDefinition<_mamori_v1_StopContainer, _mamori_v1_StopContainer__Output>
      WaasException: MessageTypeDefinition<_mamori_v1_WaasException, _mamori_v1_WaasException__Output>
      WaasRateLimits: MessageTypeDefinition<_mamori_v1_WaasRateLimits, _mamori_v1_WaasRateLimits__Output>
      WebApplicationPolicy: MessageTypeDefinition<_mamori_v1_WebApplicationPolicy, _mamori_v1_WebApplicationPolicy__Output>
      Welcome: MessageTypeDefinition<_mamori_v1_Welcome, _mamori_v1_Welcome__Output>
      Workload: MessageTypeDefinition<_mamori_v1_Workload, _mamori_v1_Workload__Output>
    }
  }
}

