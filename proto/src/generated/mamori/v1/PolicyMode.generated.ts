// Original file: mamori/v1/defender.proto

/**
 * What a policy does when one of its parts matches.
 */
export const PolicyMode = {
  POLICY_MODE_UNSPECIFIED: 'POLICY_MODE_UNSPECIFIED',
  /**
   * Report matches as alerts only (also what UNSPECIFIED means).
   */
  POLICY_MODE_DETECT: 'POLICY_MODE_DETECT',
  /**
   * Kill the offending process locally, and report it.
   */
  POLICY_MODE_PREVENT: 'POLICY_MODE_PREVENT',
  /**
   * Stop the offending container, and report it.
   */
  POLICY_MODE_BLOCK: 'POLICY_MODE_BLOCK',
} as const;

/**
 * What a policy does when one of its parts matches.
 */
export type PolicyMode =
  | 'POLICY_MODE_UNSPECIFIED'
  | 0
  /**
   * Report matches as alerts only (also what UNSPECIFIED means).
   */
  | 'POLICY_MODE_DETECT'
  | 1
  /**
   * Kill the offending process locally, and report it.
   */
  | 'POLICY_MODE_PREVENT'
  | 2
  /**
   * Stop the offending container, and report it.
   */
  | 'POLICY_MODE_BLOCK'
  | 3

/**
 * What a policy does when one of its parts matches.
 */
export type PolicyMode__Output = typeof PolicyMode[keyof typeof PolicyMode]
