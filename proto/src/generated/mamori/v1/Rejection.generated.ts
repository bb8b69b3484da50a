// Original file: mamori/v1/defender.proto


export interface Rejection {
  /**
   * Index of the event in the batch, -1 for the batch as a whole.
   */
  'index'?: (number);
  'event_id'?: (string);
  /**
   * Path of the offending field, e.g. "events[3].process_exec.process.pid".
   */
  'field'?: (string);
  'reason'?: (string);
}

export interface Rejection__Output {
  /**
   * Index of the event in the batch, -1 for the batch as a whole.
   */
  'index': (number);
  'event_id': (string);
  /**
   * Path of the offending field, e.g. "events[3].process_exec.process.pid".
   */
  'field': (string);
  'reason': (string);
}
