// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

export interface DnsQuery {
  'process'?: (_mamori_v1_Process | null);
  'query'?: (string);
  /**
   * A, AAAA, CNAME, TXT, …
   */
  'query_type'?: (string);
  /**
   * NOERROR, NXDOMAIN, …; empty when no answer was seen.
   */
  'response_code'?: (string);
  'answers'?: (string)[];
  'server_address'?: (string);
}

export interface DnsQuery__Output {
  'process': (_mamori_v1_Process__Output | null);
  'query': (string);
  /**
   * A, AAAA, CNAME, TXT, …
   */
  'query_type': (string);
  /**
   * NOERROR, NXDOMAIN, …; empty when no answer was seen.
   */
  'response_code': (string);
  'answers': (string)[];
  'server_address': (string);
}
