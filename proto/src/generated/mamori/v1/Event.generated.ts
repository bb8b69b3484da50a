// Original file: mamori/v1/event.proto

import type { Host as _mamori_v1_Host, Host__Output as _mamori_v1_Host__Output } from '../../mamori/v1/Host.generated.js';
import type { Workload as _mamori_v1_Workload, Workload__Output as _mamori_v1_Workload__Output } from '../../mamori/v1/Workload.generated.js';
import type { ProcessExec as _mamori_v1_ProcessExec, ProcessExec__Output as _mamori_v1_ProcessExec__Output } from '../../mamori/v1/ProcessExec.generated.js';
import type { ProcessExit as _mamori_v1_ProcessExit, ProcessExit__Output as _mamori_v1_ProcessExit__Output } from '../../mamori/v1/ProcessExit.generated.js';
import type { FileOpen as _mamori_v1_FileOpen, FileOpen__Output as _mamori_v1_FileOpen__Output } from '../../mamori/v1/FileOpen.generated.js';
import type { FileWrite as _mamori_v1_FileWrite, FileWrite__Output as _mamori_v1_FileWrite__Output } from '../../mamori/v1/FileWrite.generated.js';
import type { FileRename as _mamori_v1_FileRename, FileRename__Output as _mamori_v1_FileRename__Output } from '../../mamori/v1/FileRename.generated.js';
import type { FileDelete as _mamori_v1_FileDelete, FileDelete__Output as _mamori_v1_FileDelete__Output } from '../../mamori/v1/FileDelete.generated.js';
import type { NetworkConnect as _mamori_v1_NetworkConnect, NetworkConnect__Output as _mamori_v1_NetworkConnect__Output } from '../../mamori/v1/NetworkConnect.generated.js';
import type { NetworkAccept as _mamori_v1_NetworkAccept, NetworkAccept__Output as _mamori_v1_NetworkAccept__Output } from '../../mamori/v1/NetworkAccept.generated.js';
import type { NetworkListen as _mamori_v1_NetworkListen, NetworkListen__Output as _mamori_v1_NetworkListen__Output } from '../../mamori/v1/NetworkListen.generated.js';
import type { DnsQuery as _mamori_v1_DnsQuery, DnsQuery__Output as _mamori_v1_DnsQuery__Output } from '../../mamori/v1/DnsQuery.generated.js';
import type { HttpRequest as _mamori_v1_HttpRequest, HttpRequest__Output as _mamori_v1_HttpRequest__Output } from '../../mamori/v1/HttpRequest.generated.js';
import type { HttpResponse as _mamori_v1_HttpResponse, HttpResponse__Output as _mamori_v1_HttpResponse__Output } from '../../mamori/v1/HttpResponse.generated.js';
import type { ScannerFinding as _mamori_v1_ScannerFinding, ScannerFinding__Output as _mamori_v1_ScannerFinding__Output } from '../../mamori/v1/ScannerFinding.generated.js';
import type { FileLink as _mamori_v1_FileLink, FileLink__Output as _mamori_v1_FileLink__Output } from '../../mamori/v1/FileLink.generated.js';
import type { FileSymlink as _mamori_v1_FileSymlink, FileSymlink__Output as _mamori_v1_FileSymlink__Output } from '../../mamori/v1/FileSymlink.generated.js';
import type { KernelModuleLoad as _mamori_v1_KernelModuleLoad, KernelModuleLoad__Output as _mamori_v1_KernelModuleLoad__Output } from '../../mamori/v1/KernelModuleLoad.generated.js';
import type { ProcessPtrace as _mamori_v1_ProcessPtrace, ProcessPtrace__Output as _mamori_v1_ProcessPtrace__Output } from '../../mamori/v1/ProcessPtrace.generated.js';
import type { NetworkSocket as _mamori_v1_NetworkSocket, NetworkSocket__Output as _mamori_v1_NetworkSocket__Output } from '../../mamori/v1/NetworkSocket.generated.js';
import type { FdDup as _mamori_v1_FdDup, FdDup__Output as _mamori_v1_FdDup__Output } from '../../mamori/v1/FdDup.generated.js';
import type { EnforcementAction as _mamori_v1_EnforcementAction, EnforcementAction__Output as _mamori_v1_EnforcementAction__Output } from '../../mamori/v1/EnforcementAction.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One observed fact.
 */
export interface Event {
  /**
   * Chosen by the agent, unique per agent (a UUID or ULID); a resent event keeps its id, so
   * consumers deduplicate on (tenant_id, agent_id, id).
   */
  'id'?: (string);
  /**
   * Stamped by ingest from the agent's credential; a value sent by the agent is overwritten.
   */
  'tenant_id'?: (string);
  /**
   * Stamped by ingest from the agent's credential.
   */
  'agent_id'?: (string);
  /**
   * When the agent observed the fact, in microseconds since the Unix epoch.
   */
  'observed_unix_micros'?: (number | string | Long);
  /**
   * When ingest accepted it, in microseconds since the Unix epoch; stamped by ingest.
   */
  'received_unix_micros'?: (number | string | Long);
  'host'?: (_mamori_v1_Host | null);
  /**
   * The container, pod and image the fact belongs to; absent for host-level facts.
   */
  'workload'?: (_mamori_v1_Workload | null);
  /**
   * Free-form labels the agent attaches (e.g. sensor name); small.
   */
  'labels'?: ({[key: string]: string});
  'process_exec'?: (_mamori_v1_ProcessExec | null);
  'process_exit'?: (_mamori_v1_ProcessExit | null);
  'file_open'?: (_mamori_v1_FileOpen | null);
  'file_write'?: (_mamori_v1_FileWrite | null);
  'file_rename'?: (_mamori_v1_FileRename | null);
  'file_delete'?: (_mamori_v1_FileDelete | null);
  'network_connect'?: (_mamori_v1_NetworkConnect | null);
  'network_accept'?: (_mamori_v1_NetworkAccept | null);
  'network_listen'?: (_mamori_v1_NetworkListen | null);
  'dns_query'?: (_mamori_v1_DnsQuery | null);
  'http_request'?: (_mamori_v1_HttpRequest | null);
  'http_response'?: (_mamori_v1_HttpResponse | null);
  'scanner_finding'?: (_mamori_v1_ScannerFinding | null);
  'file_link'?: (_mamori_v1_FileLink | null);
  'file_symlink'?: (_mamori_v1_FileSymlink | null);
  'kernel_module_load'?: (_mamori_v1_KernelModuleLoad | null);
  'process_ptrace'?: (_mamori_v1_ProcessPtrace | null);
  'network_socket'?: (_mamori_v1_NetworkSocket | null);
  'fd_dup'?: (_mamori_v1_FdDup | null);
  'enforcement'?: (_mamori_v1_EnforcementAction | null);
  'payload'?: "process_exec"|"process_exit"|"file_open"|"file_write"|"file_rename"|"file_delete"|"network_connect"|"network_accept"|"network_listen"|"dns_query"|"http_request"|"http_response"|"scanner_finding"|"file_link"|"file_symlink"|"kernel_module_load"|"process_ptrace"|"network_socket"|"fd_dup"|"enforcement";
}

/**
 * One observed fact.
 */
export interface Event__Output {
  /**
   * Chosen by the agent, unique per agent (a UUID or ULID); a resent event keeps its id, so
   * consumers deduplicate on (tenant_id, agent_id, id).
   */
  'id': (string);
  /**
   * Stamped by ingest from the agent's credential; a value sent by the agent is overwritten.
   */
  'tenant_id': (string);
  /**
   * Stamped by ingest from the agent's credential.
   */
  'agent_id': (string);
  /**
   * When the agent observed the fact, in microseconds since the Unix epoch.
   */
  'observed_unix_micros': (number);
  /**
   * When ingest accepted it, in microseconds since the Unix epoch; stamped by ingest.
   */
  'received_unix_micros': (number);
  'host': (_mamori_v1_Host__Output | null);
  /**
   * The container, pod and image the fact belongs to; absent for host-level facts.
   */
  'workload': (_mamori_v1_Workload__Output | null);
  /**
   * Free-form labels the agent attaches (e.g. sensor name); small.
   */
  'labels': ({[key: string]: string});
  'process_exec'?: (_mamori_v1_ProcessExec__Output | null);
  'process_exit'?: (_mamori_v1_ProcessExit__Output | null);
  'file_open'?: (_mamori_v1_FileOpen__Output | null);
  'file_write'?: (_mamori_v1_FileWrite__Output | null);
  'file_rename'?: (_mamori_v1_FileRename__Output | null);
  'file_delete'?: (_mamori_v1_FileDelete__Output | null);
  'network_connect'?: (_mamori_v1_NetworkConnect__Output | null);
  'network_accept'?: (_mamori_v1_NetworkAccept__Output | null);
  'network_listen'?: (_mamori_v1_NetworkListen__Output | null);
  'dns_query'?: (_mamori_v1_DnsQuery__Output | null);
  'http_request'?: (_mamori_v1_HttpRequest__Output | null);
  'http_response'?: (_mamori_v1_HttpResponse__Output | null);
  'scanner_finding'?: (_mamori_v1_ScannerFinding__Output | null);
  'file_link'?: (_mamori_v1_FileLink__Output | null);
  'file_symlink'?: (_mamori_v1_FileSymlink__Output | null);
  'kernel_module_load'?: (_mamori_v1_KernelModuleLoad__Output | null);
  'process_ptrace'?: (_mamori_v1_ProcessPtrace__Output | null);
  'network_socket'?: (_mamori_v1_NetworkSocket__Output | null);
  'fd_dup'?: (_mamori_v1_FdDup__Output | null);
  'enforcement'?: (_mamori_v1_EnforcementAction__Output | null);
  'payload'?: "process_exec"|"process_exit"|"file_open"|"file_write"|"file_rename"|"file_delete"|"network_connect"|"network_accept"|"network_listen"|"dns_query"|"http_request"|"http_response"|"scanner_finding"|"file_link"|"file_symlink"|"kernel_module_load"|"process_ptrace"|"network_socket"|"fd_dup"|"enforcement";
}
