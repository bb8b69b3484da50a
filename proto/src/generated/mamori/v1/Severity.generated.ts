// Original file: mamori/v1/event.proto

export const Severity = {
  SEVERITY_UNSPECIFIED: 'SEVERITY_UNSPECIFIED',
  SEVERITY_INFO: 'SEVERITY_INFO',
  SEVERITY_LOW: 'SEVERITY_LOW',
  SEVERITY_MEDIUM: 'SEVERITY_MEDIUM',
  SEVERITY_HIGH: 'SEVERITY_HIGH',
  SEVERITY_CRITICAL: 'SEVERITY_CRITICAL',
} as const;

export type Severity =
  | 'SEVERITY_UNSPECIFIED'
  | 0
  | 'SEVERITY_INFO'
  | 1
  | 'SEVERITY_LOW'
  | 2
  | 'SEVERITY_MEDIUM'
  | 3
  | 'SEVERITY_HIGH'
  | 4
  | 'SEVERITY_CRITICAL'
  | 5

export type Severity__Output = typeof Severity[keyof typeof Severity]
