// Original file: mamori/v1/event.proto


export interface SkippedRuleInfo {
  'rule'?: (string);
  'reason'?: (string);
  /**
   * The field or key that could not be used, when one was.
   */
  'field'?: (string);
  'file'?: (string);
  'line'?: (number);
}

export interface SkippedRuleInfo__Output {
  'rule': (string);
  'reason': (string);
  /**
   * The field or key that could not be used, when one was.
   */
  'field': (string);
  'file': (string);
  'line': (number);
}
