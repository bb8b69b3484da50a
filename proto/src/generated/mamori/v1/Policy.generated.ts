// Original file: mamori/v1/defender.proto

import type { PolicyMode as _mamori_v1_PolicyMode, PolicyMode__Output as _mamori_v1_PolicyMode__Output } from '../../mamori/v1/PolicyMode.generated.js';
import type { NetworkDestination as _mamori_v1_NetworkDestination, NetworkDestination__Output as _mamori_v1_NetworkDestination__Output } from '../../mamori/v1/NetworkDestination.generated.js';
import type { WebApplicationPolicy as _mamori_v1_WebApplicationPolicy, WebApplicationPolicy__Output as _mamori_v1_WebApplicationPolicy__Output } from '../../mamori/v1/WebApplicationPolicy.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A runtime policy of one tenant. Policies are events too: the API writes each version of a
 * policy to the policies topic (`mamori.policies.v1`, keyed "<tenant_id>/<id>", compacted), a
 * deletion as a record with `deleted` set; readers keep the last record per key.
 * 
 * Scope (the selector): `images`, `namespaces` and `pod_labels` must all match an event's
 * workload; an empty list or map matches everything, and a policy with any of them set never
 * matches host-level events (events without a workload).
 * 
 * Parts: every non-empty list below becomes one check, and `rules` adds Falco rules; each part
 * that matches an event in scope acts according to `mode`. Values are data, never rule text:
 * quotes, parentheses or commas in them are matched literally.
 */
export interface Policy {
  /**
   * Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters.
   */
  'id'?: (string);
  'name'?: (string);
  'mode'?: (_mamori_v1_PolicyMode);
  /**
   * Rules in Falco's rule language (YAML text), compiled as a file of their own and scoped by
   * the selector like the other parts.
   */
  'rules'?: (string);
  /**
   * Kubernetes namespaces (exact, or globs with * ? [...]); empty matches every namespace.
   */
  'namespaces'?: (string)[];
  /**
   * Image repositories with registry, as Workload.image_repository (exact, or globs with
   * * ? [...], where * also crosses "/": "registry.example.gov/city/*"); empty matches every
   * image.
   */
  'images'?: (string)[];
  /**
   * The tenant the policy belongs to; equals the tenant of its record key. Written by the API
   * from the caller's credential, never taken from an agent.
   */
  'tenant_id'?: (string);
  /**
   * Pod label equalities, all of which must hold (Workload.pod_labels); empty matches every
   * pod.
   */
  'pod_labels'?: ({[key: string]: string});
  /**
   * When non-empty, a process started (process_exec) whose name or executable is in none of
   * these entries matches. An entry with a "/" is an executable path (or glob) compared with
   * Process.exe; without one it is a name compared with Process.name and with the basename of
   * Process.exe (comm is truncated to 15 characters, the path is not).
   */
  'allowed_processes'?: (string)[];
  /**
   * A process started whose name or executable is one of these entries matches (same entry
   * forms as allowed_processes).
   */
  'denied_processes'?: (string)[];
  /**
   * Path prefixes (a directory protects everything below it, component by component) or
   * globs with wildcards within a component ("/etc/*.conf"). Writes (file_write, file_open for
   * writing), renames from or to, deletes, hard links from or to and symbolic links created
   * under them (or pointing into them) match. Relative paths are resolved against the
   * process's working directory first.
   */
  'protected_paths'?: (string)[];
  /**
   * When non-empty, an outgoing connection (network_connect) to a remote address and port
   * that none of these allows matches.
   */
  'allowed_destinations'?: (_mamori_v1_NetworkDestination)[];
  /**
   * When this version of the policy was written, in microseconds since the Unix epoch.
   */
  'updated_unix_micros'?: (number | string | Long);
  /**
   * A tombstone: the policy (tenant_id, id) was deleted. It stays on the compacted topic as
   * the key's last record (a record with a value, unlike Kafka's null tombstones, so that
   * compaction cannot make a deletion disappear before readers have seen it); readers drop
   * the key. Never sent to agents.
   */
  'deleted'?: (boolean);
  /**
   * Web application and API protection (WAAS) for the applications the policy selects by host
   * and path. Defenders judge the requests they see (inline proxy, access logs) under the first
   * policy, by id, whose selector matches; `mode` decides what a verdict does: DETECT reports
   * requests that would be blocked, PREVENT and BLOCK answer them 403. The workload selector
   * (images, namespaces, pod_labels) does not apply to it.
   */
  'web_application'?: (_mamori_v1_WebApplicationPolicy | null);
}

/**
 * A runtime policy of one tenant. Policies are events too: the API writes each version of a
 * policy to the policies topic (`mamori.policies.v1`, keyed "<tenant_id>/<id>", compacted), a
 * deletion as a record with `deleted` set; readers keep the last record per key.
 * 
 * Scope (the selector): `images`, `namespaces` and `pod_labels` must all match an event's
 * workload; an empty list or map matches everything, and a policy with any of them set never
 * matches host-level events (events without a workload).
 * 
 * Parts: every non-empty list below becomes one check, and `rules` adds Falco rules; each part
 * that matches an event in scope acts according to `mode`. Values are data, never rule text:
 * quotes, parentheses or commas in them are matched literally.
 */
export interface Policy__Output {
  /**
   * Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters.
   */
  'id': (string);
  'name': (string);
  'mode': (_mamori_v1_PolicyMode__Output);
  /**
   * Rules in Falco's rule language (YAML text), compiled as a file of their own and scoped by
   * the selector like the other parts.
   */
  'rules': (string);
  /**
   * Kubernetes namespaces (exact, or globs with * ? [...]); empty matches every namespace.
   */
  'namespaces': (string)[];
  /**
   * Image repositories with registry, as Workload.image_repository (exact, or globs with
   * * ? [...], where * also crosses "/": "registry.example.gov/city/*"); empty matches every
   * image.
   */
  'images': (string)[];
  /**
   * The tenant the policy belongs to; equals the tenant of its record key. Written by the API
   * from the caller's credential, never taken from an agent.
   */
  'tenant_id': (string);
  /**
   * Pod label equalities, all of which must hold (Workload.pod_labels); empty matches every
   * pod.
   */
  'pod_labels': ({[key: string]: string});
  /**
   * When non-empty, a process started (process_exec) whose name or executable is in none of
   * these entries matches. An entry with a "/" is an executable path (or glob) compared with
   * Process.exe; without one it is a name compared with Process.name and with the basename of
   * Process.exe (comm is truncated to 15 characters, the path is not).
   */
  'allowed_processes': (string)[];
  /**
   * A process started whose name or executable is one of these entries matches (same entry
   * forms as allowed_processes).
   */
  'denied_processes': (string)[];
  /**
   * Path prefixes (a directory protects everything below it, component by component) or
   * globs with wildcards within a component ("/etc/*.conf"). Writes (file_write, file_open for
   * writing), renames from or to, deletes, hard links from or to and symbolic links created
   * under them (or pointing into them) match. Relative paths are resolved against the
   * process's working directory first.
   */
  'protected_paths': (string)[];
  /**
   * When non-empty, an outgoing connection (network_connect) to a remote address and port
   * that none of these allows matches.
   */
  'allowed_destinations': (_mamori_v1_NetworkDestination__Output)[];
  /**
   * When this version of the policy was written, in microseconds since the Unix epoch.
   */
  'updated_unix_micros': (number);
  /**
   * A tombstone: the policy (tenant_id, id) was deleted. It stays on the compacted topic as
   * the key's last record (a record with a value, unlike Kafka's null tombstones, so that
   * compaction cannot make a deletion disappear before readers have seen it); readers drop
   * the key. Never sent to agents.
   */
  'deleted': (boolean);
  /**
   * Web application and API protection (WAAS) for the applications the policy selects by host
   * and path. Defenders judge the requests they see (inline proxy, access logs) under the first
   * policy, by id, whose selector matches; `mode` decides what a verdict does: DETECT reports
   * requests that would be blocked, PREVENT and BLOCK answer them 403. The workload selector
   * (images, namespaces, pod_labels) does not apply to it.
   */
  'web_application': (_mamori_v1_WebApplicationPolicy__Output | null);
}
