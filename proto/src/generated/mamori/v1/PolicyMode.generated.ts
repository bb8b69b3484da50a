// Original file: mamori/v1/defender.proto

export const PolicyMode = {
  POLICY_MODE_UNSPECIFIED: 'POLICY_MODE_UNSPECIFIED',
  /**
   * Report matches as alerts only.
   */
  POLICY_MODE_DETECT: 'POLICY_MODE_DETECT',
  /**
   * Kill the offending process locally.
   */
  POLICY_MODE_PREVENT: 'POLICY_MODE_PREVENT',
  /**
   * Stop the offending container.
   */
  POLICY_MODE_BLOCK: 'POLICY_MODE_BLOCK',
} as const;

export type PolicyMode =
  | 'POLICY_MODE_UNSPECIFIED'
  | 0
  /**
   * Report matches as alerts only.
   */
  | 'POLICY_MODE_DETECT'
  | 1
  /**
   * Kill the offending process locally.
   */
  | 'POLICY_MODE_PREVENT'
  | 2
  /**
   * Stop the offending container.
   */
  | 'POLICY_MODE_BLOCK'
  | 3

export type PolicyMode__Output = typeof PolicyMode[keyof typeof PolicyMode]
