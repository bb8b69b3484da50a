// Original file: mamori/v1/event.proto


/**
 * The node the agent runs on.
 */
export interface Host {
  'hostname'?: (string);
  /**
   * etc/machine-id or the cloud instance id.
   */
  'machine_id'?: (string);
  'os'?: (string);
  'kernel'?: (string);
  /**
   * Primary addresses of the node, IPv4 or IPv6 text form.
   */
  'addresses'?: (string)[];
}

/**
 * The node the agent runs on.
 */
export interface Host__Output {
  'hostname': (string);
  /**
   * etc/machine-id or the cloud instance id.
   */
  'machine_id': (string);
  'os': (string);
  'kernel': (string);
  /**
   * Primary addresses of the node, IPv4 or IPv6 text form.
   */
  'addresses': (string)[];
}
