// Original file: mamori/v1/event.proto


/**
 * One tuple of a RuleException's values.
 */
export interface ExceptionValues {
  'values'?: (string)[];
}

/**
 * One tuple of a RuleException's values.
 */
export interface ExceptionValues__Output {
  'values': (string)[];
}
