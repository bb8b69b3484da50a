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
  /**
   * Names the agent's sequence numbering: a random id made once, when the agent's spool is
   * created, and kept with it. Ingest lets only one instance of an agent id be connected: a
   * second instance's stream is refused with ALREADY_EXISTS while the first is connected (two
   * numberings would take each other's batches for duplicates), and a new stream of the same
   * instance replaces the older one (a reconnect before ingest noticed the old stream died).
   * Empty for agents that do not say: their newest stream replaces the older one.
   */
  'instance_id'?: (string);
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
  /**
   * Names the agent's sequence numbering: a random id made once, when the agent's spool is
   * created, and kept with it. Ingest lets only one instance of an agent id be connected: a
   * second instance's stream is refused with ALREADY_EXISTS while the first is connected (two
   * numberings would take each other's batches for duplicates), and a new stream of the same
   * instance replaces the older one (a reconnect before ingest noticed the old stream died).
   * Empty for agents that do not say: their newest stream replaces the older one.
   */
  'instance_id': (string);
}
