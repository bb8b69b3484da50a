// Original file: mamori/v1/event.proto

import type { Severity as _mamori_v1_Severity, Severity__Output as _mamori_v1_Severity__Output } from '../../mamori/v1/Severity.generated.js';

/**
 * A finding of a scanner (image or IaC), entering the same pipeline as runtime events.
 */
export interface ScannerFinding {
  /**
   * image, iac.
   */
  'scanner'?: (string);
  /**
   * What was scanned: an image reference with digest, or a template path.
   */
  'target'?: (string);
  /**
   * vulnerability, secret, malware, compliance, misconfiguration.
   */
  'category'?: (string);
  /**
   * The rule, check or advisory id, e.g. CVE-2024-3094 or MAMORI-K8S-001.
   */
  'rule_id'?: (string);
  'severity'?: (_mamori_v1_Severity);
  'title'?: (string);
  'description'?: (string);
  /**
   * Where in the target: a file path (and line) or a package.
   */
  'location'?: (string);
  'line'?: (number);
  'package_name'?: (string);
  'package_version'?: (string);
  'fixed_version'?: (string);
  'remediation'?: (string);
  'references'?: (string)[];
  /**
   * CVSS base score, 0 when unknown.
   */
  'cvss_score'?: (number | string);
}

/**
 * A finding of a scanner (image or IaC), entering the same pipeline as runtime events.
 */
export interface ScannerFinding__Output {
  /**
   * image, iac.
   */
  'scanner': (string);
  /**
   * What was scanned: an image reference with digest, or a template path.
   */
  'target': (string);
  /**
   * vulnerability, secret, malware, compliance, misconfiguration.
   */
  'category': (string);
  /**
   * The rule, check or advisory id, e.g. CVE-2024-3094 or MAMORI-K8S-001.
   */
  'rule_id': (string);
  'severity': (_mamori_v1_Severity__Output);
  'title': (string);
  'description': (string);
  /**
   * Where in the target: a file path (and line) or a package.
   */
  'location': (string);
  'line': (number);
  'package_name': (string);
  'package_version': (string);
  'fixed_version': (string);
  'remediation': (string);
  'references': (string)[];
  /**
   * CVSS base score, 0 when unknown.
   */
  'cvss_score': (number);
}
