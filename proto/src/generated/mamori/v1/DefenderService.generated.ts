// Original file: mamori/v1/defender.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _mamori_v1_AgentMessage, AgentMessage__Output as _mamori_v1_AgentMessage__Output } from '../../mamori/v1/AgentMessage.generated.js';
import type { ServerMessage as _mamori_v1_ServerMessage, ServerMessage__Output as _mamori_v1_ServerMessage__Output } from '../../mamori/v1/ServerMessage.generated.js';

export interface DefenderServiceClient extends grpc.Client {
  /**
   * The agent opens the stream with a Hello, then sends EventBatches; the server answers
   * with a Welcome, a BatchAck for every batch, and pushes policies and commands at any time.
   * The agent authenticates with `authorization: Bearer <token>` in the call metadata.
   */
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mamori_v1_AgentMessage, _mamori_v1_ServerMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mamori_v1_AgentMessage, _mamori_v1_ServerMessage__Output>;
  /**
   * The agent opens the stream with a Hello, then sends EventBatches; the server answers
   * with a Welcome, a BatchAck for every batch, and pushes policies and commands at any time.
   * The agent authenticates with `authorization: Bearer <token>` in the call metadata.
   */
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mamori_v1_AgentMessage, _mamori_v1_ServerMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mamori_v1_AgentMessage, _mamori_v1_ServerMessage__Output>;
  
}

export interface DefenderServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The agent opens the stream with a Hello, then sends EventBatches; the server answers
   * with a Welcome, a BatchAck for every batch, and pushes policies and commands at any time.
   * The agent authenticates with `authorization: Bearer <token>` in the call metadata.
   */
  Connect: grpc.handleBidiStreamingCall<_mamori_v1_AgentMessage__Output, _mamori_v1_ServerMessage>;
  
}

export interface DefenderServiceDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_mamori_v1_AgentMessage, _mamori_v1_ServerMessage, _mamori_v1_AgentMessage__Output, _mamori_v1_ServerMessage__Output>
}
