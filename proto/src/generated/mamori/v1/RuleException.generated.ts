// Original file: mamori/v1/event.proto

import type { ExceptionValues as _mamori_v1_ExceptionValues, ExceptionValues__Output as _mamori_v1_ExceptionValues__Output } from '../../mamori/v1/ExceptionValues.generated.js';

/**
 * Falco's exception, for one tenant and added at run time: `rule` raises no alert on an event
 * whose `fields` compare true (`comps`, one per field) with every value of one of the tuples
 * of `values`. Values are data, never rule text.
 */
export interface RuleException {
  /**
   * Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters.
   */
  'id'?: (string);
  /**
   * The id of the rule it silences: "falco:<name>", "mamori:<name>", "sigma:<id>",
   * "policy:<policy id>:<part>" (CompiledRule.id).
   */
  'rule'?: (string);
  /**
   * A short description, shown with the exception.
   */
  'name'?: (string);
  /**
   * Falco fields (proc.name, proc.cmdline, fd.name, container.image.repository, k8s.ns.name…).
   */
  'fields'?: (string)[];
  /**
   * One operator per field (=, !=, <, <=, >, >=, contains, icontains, startswith, endswith,
   * glob, pmatch, in, intersects); empty means = for every field. With a list operator the
   * tuple's value is a list of one.
   */
  'comps'?: (string)[];
  /**
   * Tuples of one value per field; the exception holds when any tuple does.
   */
  'values'?: (_mamori_v1_ExceptionValues)[];
  /**
   * Why the exception exists, in the admin's words.
   */
  'comment'?: (string);
}

/**
 * Falco's exception, for one tenant and added at run time: `rule` raises no alert on an event
 * whose `fields` compare true (`comps`, one per field) with every value of one of the tuples
 * of `values`. Values are data, never rule text.
 */
export interface RuleException__Output {
  /**
   * Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters.
   */
  'id': (string);
  /**
   * The id of the rule it silences: "falco:<name>", "mamori:<name>", "sigma:<id>",
   * "policy:<policy id>:<part>" (CompiledRule.id).
   */
  'rule': (string);
  /**
   * A short description, shown with the exception.
   */
  'name': (string);
  /**
   * Falco fields (proc.name, proc.cmdline, fd.name, container.image.repository, k8s.ns.name…).
   */
  'fields': (string)[];
  /**
   * One operator per field (=, !=, <, <=, >, >=, contains, icontains, startswith, endswith,
   * glob, pmatch, in, intersects); empty means = for every field. With a list operator the
   * tuple's value is a list of one.
   */
  'comps': (string)[];
  /**
   * Tuples of one value per field; the exception holds when any tuple does.
   */
  'values': (_mamori_v1_ExceptionValues__Output)[];
  /**
   * Why the exception exists, in the admin's words.
   */
  'comment': (string);
}
