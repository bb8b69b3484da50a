// Original file: mamori/v1/defender.proto


/**
 * Requests a client may make: at most burst_requests in any burst_seconds and
 * average_requests in any average_seconds; a client over either is refused (429) for
 * ban_seconds, when the policy's mode blocks, and reported either way.
 */
export interface WaasRateLimits {
  'burst_requests'?: (number);
  'burst_seconds'?: (number);
  'average_requests'?: (number);
  'average_seconds'?: (number);
  'ban_seconds'?: (number);
  /**
   * Cookies and then headers whose value identifies a session (hashed, never kept in clear).
   */
  'session_cookies'?: (string)[];
  'session_headers'?: (string)[];
}

/**
 * Requests a client may make: at most burst_requests in any burst_seconds and
 * average_requests in any average_seconds; a client over either is refused (429) for
 * ban_seconds, when the policy's mode blocks, and reported either way.
 */
export interface WaasRateLimits__Output {
  'burst_requests': (number);
  'burst_seconds': (number);
  'average_requests': (number);
  'average_seconds': (number);
  'ban_seconds': (number);
  /**
   * Cookies and then headers whose value identifies a session (hashed, never kept in clear).
   */
  'session_cookies': (string)[];
  'session_headers': (string)[];
}
