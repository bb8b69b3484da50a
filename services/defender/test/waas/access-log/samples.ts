/**
 * Access log lines written after the formats' documentation: nginx's `log_format ...
 * escape=json` (the README's format, and variations users write), envoy's `json_format` with
 * Istio's key names, and envoy's default text format.
 */

/** `$msec` 1714564800.123 is 2024-05-01T12:00:00.123Z. */
export const NGINX_POST = String.raw`{"time_iso8601":"2024-05-01T14:00:00+02:00","msec":"1714564800.123","remote_addr":"203.0.113.7","remote_port":"51234","request_method":"POST","request_uri":"/api/login?next=%2Fhome","server_protocol":"HTTP/1.1","host":"portal.example.gov","http_host":"portal.example.gov:8443","server_port":"8443","status":401,"body_bytes_sent":57,"request_time":0.004,"http_user_agent":"Mozilla/5.0 (X11; Linux x86_64) \"quoted\" \\ back","http_referer":"","http_x_forwarded_for":"","http_cookie":"session=abc; theme=dark","http_authorization":"Basic dXNlcjpwYXNz","content_type":"application/json","request_body":"{\"user\":\"admin\",\"note\":\"line1\nline2\u0001\"}","scheme":"https"}`;

/** `$request` instead of method and URI, an IPv6 client, `-` for absent values, `$time_local`. */
export const NGINX_REQUEST_LINE = String.raw`{"time_local":"01/May/2024:12:00:01 +0000","remote_addr":"2001:db8::17","request":"GET /files/annual report 2023.pdf HTTP/1.1","status":"200","body_bytes_sent":"1024","request_time":"0.120","http_referer":"-","http_user_agent":"curl/8.5.0","http_x_forwarded_for":"-","server_name":"files.example.gov","http_x_api_key":"k-1","request_body":"-","https":""}`;

/** A percent-encoded SQL injection in the query, from an IPv4-mapped address. */
export const NGINX_SQLI = String.raw`{"time_iso8601":"2024-05-01T12:00:02+00:00","remote_addr":"::ffff:198.51.100.4","request":"GET /search?q=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1","status":200,"body_bytes_sent":0,"request_time":"0.002","http_user_agent":"Mozilla/5.0","http_host":"shop.example.gov"}`;

/** What nginx writes for a TLS handshake sent to its plain HTTP port (status 400). */
export const NGINX_TLS_ON_HTTP = String.raw`{"time_iso8601":"2024-05-01T12:00:03+00:00","remote_addr":"192.0.2.50","request":"\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003","status":400,"body_bytes_sent":157}`;

/** A request nginx could not read at all: `$request` and `$request_method` empty. */
export const NGINX_EMPTY_REQUEST = String.raw`{"remote_addr":"192.0.2.51","request":"","request_method":"","status":400}`;

/** Cut off in the middle (a disk full, a partial write). Holds a credential. */
export const NGINX_TRUNCATED = String.raw`{"remote_addr":"203.0.113.7","request_method":"GET","http_authorization":"Bearer s3cr3t-t0ken","request_uri":"/ind`;

/** nginx's default escaping (`\x22`), i.e. a log_format declared without escape=json. */
export const NGINX_DEFAULT_ESCAPES = String.raw`{"request":"GET /?q=\x22x\x22 HTTP/1.1","status":200}`;

/** The `combined` format: not JSON at all. */
export const NGINX_COMBINED = `203.0.113.7 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0"`;

/** Istio's JSON encoding: typed numbers, null for unset, `[ipv6]:port`, SNI. */
export const ENVOY_JSON = `{"start_time":"2024-05-01T12:00:02.345Z","method":"GET","path":"/api/v1/users?id=7","protocol":"HTTP/2","response_code":200,"response_flags":"-","bytes_received":0,"bytes_sent":512,"duration":12,"upstream_service_time":"10","x_forwarded_for":null,"user_agent":"okhttp/4.12.0","request_id":"5f1c6c1e-9d7a-4f5e-a0a4-6f5ffe2d0a55","authority":"api.example.gov","upstream_host":"10.1.2.3:8080","downstream_remote_address":"[2001:db8::5]:40522","downstream_local_address":"10.0.0.5:443","requested_server_name":"api.example.gov"}`;

/** A json_format that writes every operator as a string. */
export const ENVOY_JSON_STRINGS = `{"start_time":"2024-05-01T12:00:05.000Z","method":"PUT","path":"/api/v1/users/7","protocol":"HTTP/1.1","response_code":"503","bytes_sent":"19","duration":"3","authority":"api.example.gov:8080","downstream_remote_address":"10.244.1.9:33110","x_forwarded_for":"198.51.100.9"}`;

/** Envoy's default text format, as its documentation's example. */
export const ENVOY_TEXT = `[2024-05-01T12:00:03.456Z] "POST /api/v1/orders?dry_run=1 HTTP/1.1" 201 - 154 0 226 100 "10.0.35.28" "python-requests/2.31.0" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "orders.example.gov:8080" "tcp://10.0.2.1:80"`;

/** No upstream: flags `UH`, no service time, quoted `"-"` for every absent header. */
export const ENVOY_TEXT_DASHES = `[2024-05-01T12:00:04.000Z] "GET /healthz HTTP/1.1" 503 UH 0 19 0 - "-" "-" "-" "svc.local" "-"`;

/** A user agent with a quote inside (envoy does not escape it). */
export const ENVOY_TEXT_QUOTE_IN_UA = `[2024-05-01T12:00:06.000Z] "GET /?id=1 HTTP/1.1" 200 - 0 10 1 1 "-" "sqlmap"/1.7.2" "-" "app.local" "10.0.2.1:80"`;

/** A downstream protocol error: envoy logs no request line. */
export const ENVOY_TEXT_NO_REQUEST = `[2024-05-01T12:00:07.000Z] "- - -" 400 DPE 0 11 0 - "-" "-" "-" "-" "-"`;

/** Istio's text format inserts fields after the flags: not envoy's default. */
export const ISTIO_TEXT = `[2024-05-01T12:00:08.000Z] "GET /productpage HTTP/1.1" 200 - via_upstream - "-" 0 5293 38 37 "-" "curl/8.5.0" "f7e9" "productpage:9080" "10.244.0.12:9080" outbound|9080||productpage.default.svc.cluster.local 10.244.0.11:40112 10.96.1.5:9080 10.244.0.11:39040 - default`;

/** Envoy text with a line cut short in the user agent. */
export const ENVOY_TEXT_TRUNCATED = `[2024-05-01T12:00:09.000Z] "GET /x HTTP/1.1" 200 - 0 10 1 1 "-" "Mozilla/5.`;
