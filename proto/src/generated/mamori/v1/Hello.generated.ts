// Original file: mamori/v1/defender.proto


/**
 * First message of every stream.
 */
export interface Hello {
  /**
   * Must equal the agent id the credential belongs to.
   */
  'agent_id'?: (string);
  'agent_version'?: (string);
  /**
   * What the agent can do, e.g. "process", "file", "network", "http", "enforce.kill".
   */
  'capabilities'?: (string)[];
  /**
   * Version of the policy set the agent currently enforces; empty when it has none.
   */
  'policy_version'?: (string);
  'hostname'?: (string);
}

/**
 * First message of every stream.
 */
export interface Hello__Output {
  /**
   * Must equal the agent id the credential belongs to.
   */
  'agent_id': (string);
  'agent_version': (string);
  /**
   * What the agent can do, e.g. "process", "file", "network", "http", "enforce.kill".
   */
  'capabilities': (string)[];
  /**
   * Version of the policy set the agent currently enforces; empty when it has none.
   */
  'policy_version': (string);
  'hostname': (string);
}
