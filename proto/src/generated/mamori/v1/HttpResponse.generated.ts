// Original file: mamori/v1/event.proto

import type { HttpHeader as _mamori_v1_HttpHeader, HttpHeader__Output as _mamori_v1_HttpHeader__Output } from '../../mamori/v1/HttpHeader.generated.js';
import type { Long } from '@grpc/proto-loader';

export interface HttpResponse {
  'request_id'?: (string);
  'status'?: (number);
  'headers'?: (_mamori_v1_HttpHeader)[];
  'body_size'?: (number | string | Long);
  /**
   * Time from request to first response byte, in microseconds.
   */
  'latency_micros'?: (number | string | Long);
}

export interface HttpResponse__Output {
  'request_id': (string);
  'status': (number);
  'headers': (_mamori_v1_HttpHeader__Output)[];
  'body_size': (number);
  /**
   * Time from request to first response byte, in microseconds.
   */
  'latency_micros': (number);
}
