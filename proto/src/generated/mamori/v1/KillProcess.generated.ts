// Original file: mamori/v1/defender.proto

import type { Long } from '@grpc/proto-loader';

export interface KillProcess {
  'pid'?: (number);
  /**
   * Start time of the process, so that a reused pid is never killed by mistake.
   */
  'start_unix_micros'?: (number | string | Long);
  'reason'?: (string);
}

export interface KillProcess__Output {
  'pid': (number);
  /**
   * Start time of the process, so that a reused pid is never killed by mistake.
   */
  'start_unix_micros': (number);
  'reason': (string);
}
