// Original file: mamori/v1/event.proto

import type { HttpHeader as _mamori_v1_HttpHeader, HttpHeader__Output as _mamori_v1_HttpHeader__Output } from '../../mamori/v1/HttpHeader.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An HTTP request seen in front of an application (WAF and API security).
 */
export interface HttpRequest {
  /**
   * Correlates the request with its response.
   */
  'request_id'?: (string);
  'method'?: (string);
  /**
   * Path and query as received, not decoded.
   */
  'url'?: (string);
  'http_version'?: (string);
  'headers'?: (_mamori_v1_HttpHeader)[];
  /**
   * The body as received, possibly truncated to the agent's capture limit.
   */
  'body'?: (Buffer | Uint8Array | string);
  /**
   * Full length of the body, which may exceed the captured bytes.
   */
  'body_size'?: (number | string | Long);
  'client_address'?: (string);
  'client_port'?: (number);
  /**
   * Host the request was addressed to (Host header or TLS SNI).
   */
  'server_name'?: (string);
  'server_port'?: (number);
  'tls'?: (boolean);
}

/**
 * An HTTP request seen in front of an application (WAF and API security).
 */
export interface HttpRequest__Output {
  /**
   * Correlates the request with its response.
   */
  'request_id': (string);
  'method': (string);
  /**
   * Path and query as received, not decoded.
   */
  'url': (string);
  'http_version': (string);
  'headers': (_mamori_v1_HttpHeader__Output)[];
  /**
   * The body as received, possibly truncated to the agent's capture limit.
   */
  'body': (Buffer);
  /**
   * Full length of the body, which may exceed the captured bytes.
   */
  'body_size': (number);
  'client_address': (string);
  'client_port': (number);
  /**
   * Host the request was addressed to (Host header or TLS SNI).
   */
  'server_name': (string);
  'server_port': (number);
  'tls': (boolean);
}
