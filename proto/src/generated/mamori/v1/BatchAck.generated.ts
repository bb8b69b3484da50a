// Original file: mamori/v1/defender.proto

import type { AckStatus as _mamori_v1_AckStatus, AckStatus__Output as _mamori_v1_AckStatus__Output } from '../../mamori/v1/AckStatus.generated.js';
import type { Rejection as _mamori_v1_Rejection, Rejection__Output as _mamori_v1_Rejection__Output } from '../../mamori/v1/Rejection.generated.js';
import type { Long } from '@grpc/proto-loader';

export interface BatchAck {
  'sequence'?: (number | string | Long);
  'status'?: (_mamori_v1_AckStatus);
  /**
   * Events made durable by this batch.
   */
  'accepted'?: (number);
  /**
   * Human-readable summary when something was refused.
   */
  'reason'?: (string);
  /**
   * Problems with single events (or, with index -1, with the batch itself).
   */
  'rejections'?: (_mamori_v1_Rejection)[];
  /**
   * For RETRY: how long to wait before resending, in milliseconds.
   */
  'retry_after_ms'?: (number);
}

export interface BatchAck__Output {
  'sequence': (number);
  'status': (_mamori_v1_AckStatus__Output);
  /**
   * Events made durable by this batch.
   */
  'accepted': (number);
  /**
   * Human-readable summary when something was refused.
   */
  'reason': (string);
  /**
   * Problems with single events (or, with index -1, with the batch itself).
   */
  'rejections': (_mamori_v1_Rejection__Output)[];
  /**
   * For RETRY: how long to wait before resending, in milliseconds.
   */
  'retry_after_ms': (number);
}
