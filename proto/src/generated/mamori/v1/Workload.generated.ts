// Original file: mamori/v1/event.proto


/**
 * The workload a fact belongs to. Fields are empty, never guessed, where the node's runtime
 * metadata does not show them.
 */
export interface Workload {
  'container_id'?: (string);
  'container_name'?: (string);
  /**
   * docker, containerd, cri-o, podman.
   */
  'runtime'?: (string);
  'privileged'?: (boolean);
  'pod_name'?: (string);
  'pod_uid'?: (string);
  'namespace'?: (string);
  /**
   * Repository with registry, e.g. registry.example.gov/city/portal.
   */
  'image_repository'?: (string);
  'image_tag'?: (string);
  /**
   * Content digest, e.g. sha256:…
   */
  'image_digest'?: (string);
  'pod_labels'?: ({[key: string]: string});
}

/**
 * The workload a fact belongs to. Fields are empty, never guessed, where the node's runtime
 * metadata does not show them.
 */
export interface Workload__Output {
  'container_id': (string);
  'container_name': (string);
  /**
   * docker, containerd, cri-o, podman.
   */
  'runtime': (string);
  'privileged': (boolean);
  'pod_name': (string);
  'pod_uid': (string);
  'namespace': (string);
  /**
   * Repository with registry, e.g. registry.example.gov/city/portal.
   */
  'image_repository': (string);
  'image_tag': (string);
  /**
   * Content digest, e.g. sha256:…
   */
  'image_digest': (string);
  'pod_labels': ({[key: string]: string});
}
