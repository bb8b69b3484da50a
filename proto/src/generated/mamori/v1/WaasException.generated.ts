// Original file: mamori/v1/defender.proto


/**
 * A part of requests excluded from inspection.
 */
export interface WaasException {
  /**
   * An exact location: "query.token", "header.x-signature", "cookie.session", "path".
   */
  'location'?: (string);
  /**
   * Every location that starts with this: "body.content.", "header.x-".
   */
  'location_prefix'?: (string);
  /**
   * Only requests whose path starts with this; empty: every path.
   */
  'path_prefix'?: (string);
  /**
   * The finding categories excepted (sqli, xss, …); empty: every category.
   */
  'categories'?: (string)[];
}

/**
 * A part of requests excluded from inspection.
 */
export interface WaasException__Output {
  /**
   * An exact location: "query.token", "header.x-signature", "cookie.session", "path".
   */
  'location': (string);
  /**
   * Every location that starts with this: "body.content.", "header.x-".
   */
  'location_prefix': (string);
  /**
   * Only requests whose path starts with this; empty: every path.
   */
  'path_prefix': (string);
  /**
   * The finding categories excepted (sqli, xss, …); empty: every category.
   */
  'categories': (string)[];
}
