import type { Detector } from '../types.js';
import { crlfCheck } from './crlf.js';
import { graphqlCheck } from './graphql.js';
import { jndiCheck } from './jndi.js';
import { nosqlCheck, prototypePollutionCheck } from './json-keys.js';
import { scannerCheck } from './scanner.js';
import { serverJsCheck } from './server-js.js';
import { ssrfCheck } from './ssrf.js';
import { sstiCheck } from './ssti.js';
import { xxeCheck } from './xxe.js';

export {
  crlfCheck,
  graphqlCheck,
  jndiCheck,
  nosqlCheck,
  prototypePollutionCheck,
  scannerCheck,
  serverJsCheck,
  ssrfCheck,
  sstiCheck,
  xxeCheck,
};

/** The checks that need no grammar, in the order the inspector runs them. */
export const BUILTIN_CHECKS: readonly Detector[] = [
  scannerCheck,
  jndiCheck,
  crlfCheck,
  prototypePollutionCheck,
  nosqlCheck,
  serverJsCheck,
  sstiCheck,
  ssrfCheck,
  xxeCheck,
  graphqlCheck,
];
