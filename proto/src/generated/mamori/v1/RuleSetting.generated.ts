// Original file: mamori/v1/event.proto


/**
 * Whether a rule raises alerts for the tenant's events (all rules do unless set otherwise).
 */
export interface RuleSetting {
  /**
   * The rule id, as RuleException.rule.
   */
  'rule'?: (string);
  'enabled'?: (boolean);
}

/**
 * Whether a rule raises alerts for the tenant's events (all rules do unless set otherwise).
 */
export interface RuleSetting__Output {
  /**
   * The rule id, as RuleException.rule.
   */
  'rule': (string);
  'enabled': (boolean);
}
