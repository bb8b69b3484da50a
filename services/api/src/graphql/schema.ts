// The GraphQL schema of the API: SDL, and resolvers over the warehouse, every one scoped to
// the caller's tenant (from the token, never from arguments).
export const typeDefs = /* GraphQL */ `
  "An instant, as an ISO 8601 string in UTC with microseconds (2026-01-31T12:00:00.000001Z)."
  scalar DateTime
  "Any JSON value."
  scalar JSON

  enum Role {
    ADMIN
    ANALYST
    VIEWER
  }

  enum EventKind {
    PROCESS_EXEC
    PROCESS_EXIT
    FILE_OPEN
    FILE_WRITE
    FILE_RENAME
    FILE_DELETE
    NETWORK_CONNECT
    NETWORK_ACCEPT
    NETWORK_LISTEN
    DNS_QUERY
    HTTP_REQUEST
    HTTP_RESPONSE
    SCANNER_FINDING
    FILE_LINK
    FILE_SYMLINK
    KERNEL_MODULE_LOAD
    PROCESS_PTRACE
    NETWORK_SOCKET
    FD_DUP
    "A defender's own enforcement of a policy (a kill, a stopped container), reported after the fact."
    ENFORCEMENT
  }

  enum Severity {
    INFO
    LOW
    MEDIUM
    HIGH
    CRITICAL
  }

  "Triage state of an alert; SUPPRESSED is noise, kept but not worked on."
  enum AlertStatus {
    OPEN
    ACKNOWLEDGED
    RESOLVED
    SUPPRESSED
  }

  "Triage state of an incident, as a whole: alerts that join it later share it."
  enum IncidentStatus {
    OPEN
    ACKNOWLEDGED
    RESOLVED
    SUPPRESSED
  }

  "What an incident's alerts ran in: a pod, a container outside any pod, a web application (the policy of the WAAS's alerts outside any container), or the host itself."
  enum WorkloadKind {
    POD
    CONTAINER
    WEB
    HOST
  }

  "What an audit entry is about: triage of an alert or incident, or an admin's change to a policy, a rule exception or a rule's setting."
  enum AuditTargetType {
    ALERT
    INCIDENT
    POLICY
    RULE_EXCEPTION
    RULE
  }

  "What was done: a triage status set (REOPEN sets OPEN), or an admin's change (ENABLE and DISABLE: a rule for the tenant)."
  enum AuditAction {
    REOPEN
    ACKNOWLEDGE
    RESOLVE
    SUPPRESS
    CREATE
    UPDATE
    DELETE
    ENABLE
    DISABLE
  }

  "Relay page information; pages go forward only (newest first)."
  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  "The caller: the tenant their token belongs to and their role."
  type Viewer {
    tenant: String!
    role: Role!
    "How the audit trail names this token's changes: its name, else token:<12 hex of its SHA-256>."
    actor: String!
  }

  type EventWorkload {
    namespace: String!
    podName: String!
    containerId: String!
    containerName: String!
    imageRepository: String!
    imageTag: String!
    imageDigest: String!
  }

  type Event {
    id: ID!
    agentId: String!
    observedAt: DateTime!
    receivedAt: DateTime!
    "Null for an event whose kind this API does not know."
    kind: EventKind
    hostname: String!
    workload: EventWorkload!
    processName: String!
    pid: Int!
    commandLine: String!
    path: String!
    labels: JSON!
    "The event's payload as JSON (bytes as base64)."
    payload: JSON
  }

  type EventEdge {
    cursor: String!
    node: Event!
  }

  type EventConnection {
    edges: [EventEdge!]!
    pageInfo: PageInfo!
  }

  "Every field given must hold."
  input EventFilter {
    "Inclusive start of the time range."
    from: DateTime
    "Exclusive end of the time range."
    to: DateTime
    hostname: String
    agentId: String
    namespace: String
    podName: String
    containerId: String
    "An image repository, repository:tag, or a digest (sha256:…)."
    image: String
    kinds: [EventKind!]
    "Short process name (comm)."
    processName: String
    "Case-insensitive substring of the command line or of the file path."
    text: String
  }

  type EventCount {
    "Start of the bucket."
    start: DateTime!
    count: Int!
  }

  type Alert {
    id: ID!
    observedAt: DateTime!
    updatedAt: DateTime!
    ruleId: String!
    ruleName: String!
    severity: Severity!
    status: AlertStatus!
    title: String!
    agentId: String!
    eventId: String!
    hostname: String!
    namespace: String!
    podName: String!
    containerId: String!
    imageRepository: String!
    tags: [String!]!
    details: JSON!
  }

  type AlertEdge {
    cursor: String!
    node: Alert!
  }

  type SeverityCounts {
    info: Int!
    low: Int!
    medium: Int!
    high: Int!
    critical: Int!
    total: Int!
  }

  type AlertConnection {
    edges: [AlertEdge!]!
    pageInfo: PageInfo!
    "Alerts matching the filter, per severity (all pages)."
    countsBySeverity: SeverityCounts!
  }

  input AlertFilter {
    from: DateTime
    to: DateTime
    severities: [Severity!]
    ruleIds: [String!]
    statuses: [AlertStatus!]
    namespace: String
    podName: String
    containerId: String
    image: String
  }

  "Where an incident's alerts ran."
  type IncidentWorkload {
    kind: WorkloadKind!
    "The roll-up key: namespace/pod, container:<id>, web:<policy id> or host:<hostname>."
    key: String!
    namespace: String!
    podName: String!
    "One container of the pod (a pod's alerts may come from several)."
    containerId: String!
    hostname: String!
  }

  type StatusChange {
    at: DateTime!
    "The actor of the token that made it."
    by: String!
    note: String!
  }

  type IncidentAlertConnection {
    edges: [AlertEdge!]!
    pageInfo: PageInfo!
  }

  "Alerts of one rule on one workload within one hour, rolled up."
  type Incident {
    "A hash of tenant, rule, workload and window: the same however often it is rebuilt."
    id: ID!
    ruleId: String!
    ruleName: String!
    "The highest severity among its alerts."
    severity: Severity!
    "The title of its earliest alert."
    title: String!
    "Distinct alerts: a replayed alert counts once."
    alertCount: Int!
    firstSeenAt: DateTime!
    lastSeenAt: DateTime!
    windowStart: DateTime!
    "Exclusive end of its window."
    windowEnd: DateTime!
    workload: IncidentWorkload!
    status: IncidentStatus!
    "The last status change; null while the incident was never triaged."
    statusChange: StatusChange
    "Its alerts, newest first."
    alerts(first: Int = 50, after: String): IncidentAlertConnection!
  }

  type IncidentEdge {
    cursor: String!
    node: Incident!
  }

  type IncidentConnection {
    edges: [IncidentEdge!]!
    pageInfo: PageInfo!
    "Incidents matching the filter, per severity (all pages)."
    countsBySeverity: SeverityCounts!
  }

  "Every field given must hold."
  input IncidentFilter {
    "An incident lies in [from, to) when its first alert came before to and its last at or after from."
    from: DateTime
    to: DateTime
    "Of the incident: the highest of its alerts."
    severities: [Severity!]
    ruleIds: [String!]
    statuses: [IncidentStatus!]
    namespace: String
    podName: String
    hostname: String
    "The roll-up key (IncidentWorkload.key)."
    workload: String
  }

  "One entry of the append-only audit trail: triage, and admins' changes to policies and detection tuning."
  type AuditEntry {
    targetType: AuditTargetType!
    targetId: ID!
    action: AuditAction!
    actor: String!
    at: DateTime!
    note: String!
  }

  type AuditEntryEdge {
    cursor: String!
    node: AuditEntry!
  }

  type AuditEntryConnection {
    edges: [AuditEntryEdge!]!
    pageInfo: PageInfo!
  }

  type Agent {
    id: ID!
    hostname: String!
    version: String!
    capabilities: [String!]!
    policyVersion: String!
    lastSeenAt: DateTime!
    "Seen within the last few minutes (MAMORI_API_AGENT_CONNECTED_SECONDS)."
    connected: Boolean!
  }

  type AgentEdge {
    cursor: String!
    node: Agent!
  }

  type AgentConnection {
    edges: [AgentEdge!]!
    pageInfo: PageInfo!
  }

  type Container {
    containerId: String!
    containerName: String!
    runtime: String!
    privileged: Boolean!
    imageRepository: String!
    imageTag: String!
    imageDigest: String!
    hostname: String!
    firstSeenAt: DateTime!
    lastSeenAt: DateTime!
  }

  "A pod (or a bare container, with an empty pod name) and what ran in it."
  type Workload {
    namespace: String!
    podName: String!
    containers: [Container!]!
    images: [String!]!
    hosts: [String!]!
    firstSeenAt: DateTime!
    lastSeenAt: DateTime!
  }

  type WorkloadEdge {
    cursor: String!
    node: Workload!
  }

  type WorkloadConnection {
    edges: [WorkloadEdge!]!
    pageInfo: PageInfo!
  }

  input WorkloadFilter {
    namespace: String
    image: String
    hostname: String
    "Only workloads with an event at or after this time."
    seenSince: DateTime
  }

  "What a policy does when one of its parts matches."
  enum PolicyMode {
    "Report matches as alerts only."
    DETECT
    "Kill the offending process locally, and report it."
    PREVENT
    "Stop the offending container, and report it."
    BLOCK
  }

  "A transport protocol of an allowed destination; ANY for both."
  enum L4Protocol {
    ANY
    TCP
    UDP
  }

  type PodLabel {
    key: String!
    value: String!
  }

  "A destination an allow-list of outgoing connections admits."
  type NetworkDestination {
    "An IPv4 or IPv6 network (10.0.0.0/8, fd00::/8); a bare address is a /32 or /128."
    cidr: String!
    "A remote port, 0 for any."
    port: Int!
    protocol: L4Protocol!
  }

  "A part of requests the web application firewall does not inspect."
  type WaasException {
    "An exact location: query.token, header.x-signature, cookie.session, path."
    location: String!
    "Every location that starts with this: body.content., header.x-."
    locationPrefix: String!
    "Only requests whose path starts with this; empty: every path."
    pathPrefix: String!
    "The finding categories excepted (sqli, xss, …); empty: every category."
    categories: [String!]!
  }

  "Requests a client may make, per client address and per session: a client over either window is reported, and refused (429) for banSeconds when the policy's mode blocks."
  type WaasRateLimits {
    "At most burstRequests in any burstSeconds."
    burstRequests: Int!
    burstSeconds: Int!
    "At most averageRequests in any averageSeconds."
    averageRequests: Int!
    averageSeconds: Int!
    "Seconds a client over a limit is refused."
    banSeconds: Int!
    "Cookies whose value identifies a session (hashed, never kept in clear), tried first."
    sessionCookies: [String!]!
    "Headers whose value identifies a session, tried after the cookies."
    sessionHeaders: [String!]!
  }

  "Web application and API protection (WAAS) for the applications a policy selects by host and path (its workload selector does not apply). The policy's mode decides what a verdict does: DETECT reports requests that would be blocked, PREVENT and BLOCK answer them 403."
  type WebApplicationPolicy {
    "Host names requests are addressed to (without port), exact or globs with * ? [...], in lower case; empty matches every host."
    hosts: [String!]!
    "Path prefixes, component by component (/api covers /api/v1, not /apis); empty matches every path."
    pathPrefixes: [String!]!
    "1 (fewest false positives) to 4 (most variants caught)."
    paranoia: Int!
    "The anomaly score at which a request is reported."
    alertThreshold: Float!
    "The anomaly score at which a request is blocked."
    blockThreshold: Float!
    "Parts of requests not inspected."
    exceptions: [WaasException!]!
    "An OpenAPI 3.0 or 3.1 document (JSON or YAML text) requests are validated against; empty for none."
    openapi: String!
    "What a request the OpenAPI document does not describe or allow does: DETECT reports it, PREVENT and BLOCK refuse it (when the policy's mode blocks too)."
    apiMode: PolicyMode!
    "Rate limits per client address and per session; null for none."
    rateLimits: WaasRateLimits
    "What a recognised bot does, as apiMode."
    botMode: PolicyMode!
    "Bytes of a body inspected; the rest is passed on uninspected."
    bodyLimitBytes: Int!
    "Share of clean requests sent as events too (0 to 1), a baseline for API discovery."
    sampleClean: Float!
  }

  "A runtime policy of the tenant (mamori.v1.Policy): a selector, parts, and Falco rules, plus web application protection."
  type Policy {
    "Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters."
    id: ID!
    name: String!
    mode: PolicyMode!
    "Image repositories with registry (exact or globs); empty matches every image."
    images: [String!]!
    "Kubernetes namespaces (exact or globs); empty matches every namespace."
    namespaces: [String!]!
    "Pod label equalities, all of which must hold; empty matches every pod."
    podLabels: [PodLabel!]!
    "When non-empty, a process started outside these names or executables matches."
    allowedProcesses: [String!]!
    "A process started with one of these names or executables matches."
    deniedProcesses: [String!]!
    "Writes, renames, deletes and links under these path prefixes or globs match."
    protectedPaths: [String!]!
    "When non-empty, an outgoing connection to none of these matches."
    allowedDestinations: [NetworkDestination!]!
    "Rules in Falco's rule language (YAML), scoped by the selector."
    rules: String!
    "Web application and API protection for the applications it selects by host and path; null for none."
    webApplication: WebApplicationPolicy
    "When this version was written."
    updatedAt: DateTime!
  }

  input PodLabelInput {
    key: String!
    value: String!
  }

  input NetworkDestinationInput {
    cidr: String!
    port: Int = 0
    protocol: L4Protocol = ANY
  }

  input WaasExceptionInput {
    "At least one of location, locationPrefix and pathPrefix is given."
    location: String = ""
    locationPrefix: String = ""
    "Starts with /."
    pathPrefix: String = ""
    "Finding categories of the WAAS (sqli, xss, cmdi, path-traversal, …); empty for every category."
    categories: [String!] = []
  }

  "Omitted fields are the rate limiter's defaults. Every number is a positive integer, and averageSeconds is at least burstSeconds."
  input WaasRateLimitsInput {
    burstRequests: Int = 50
    burstSeconds: Int = 2
    averageRequests: Int = 600
    averageSeconds: Int = 300
    banSeconds: Int = 60
    sessionCookies: [String!] = ["session"]
    sessionHeaders: [String!] = ["authorization"]
  }

  "A policy's web application part; omitted fields get the defaults shown (every field is stored explicitly)."
  input WebApplicationInput {
    "Host names or globs of letters, digits and . - * ? [ ], at most 253 characters; stored in lower case."
    hosts: [String!] = []
    "Each starts with /; globs (* ? [...]) match within a component."
    pathPrefixes: [String!] = []
    "1 to 4."
    paranoia: Int = 1
    "0 < alertThreshold <= blockThreshold."
    alertThreshold: Float = 3
    blockThreshold: Float = 5
    exceptions: [WaasExceptionInput!] = []
    "At most 1 MiB, and it must compile (the error names the JSON path of what is wrong)."
    openapi: String = ""
    apiMode: PolicyMode = DETECT
    "Omitted or null: no rate limits."
    rateLimits: WaasRateLimitsInput
    botMode: PolicyMode = DETECT
    "0 to 16 MiB."
    bodyLimitBytes: Int = 131072
    "0 to 1."
    sampleClean: Float = 0.01
  }

  "A whole policy: upsertPolicy replaces the tenant's policy of that id, every field."
  input PolicyInput {
    id: ID!
    name: String!
    mode: PolicyMode = DETECT
    images: [String!] = []
    namespaces: [String!] = []
    podLabels: [PodLabelInput!] = []
    allowedProcesses: [String!] = []
    deniedProcesses: [String!] = []
    protectedPaths: [String!] = []
    allowedDestinations: [NetworkDestinationInput!] = []
    rules: String = ""
    "Omitted or null: the policy has no web application part."
    webApplication: WebApplicationInput
  }

  "A detection rule: one the detectors run (their rule catalogs), or one of the tenant's policy rules; with the tenant's tuning of it."
  type Rule {
    "falco:<name>, mamori:<name>, sigma:<id>, or policy:<policy id>:<part>."
    id: ID!
    name: String!
    "falco, sigma, mamori or policy."
    source: String!
    "As written: a Falco priority or a Sigma level."
    priority: String!
    severity: Severity!
    "MITRE ATT&CK techniques and the rule's own tags."
    tags: [String!]!
    "The kinds of events it can fire on."
    kinds: [EventKind!]!
    file: String
    line: Int
    "A windowed rule that keeps state across events (the port scan)."
    stateful: Boolean!
    "False when the tenant disabled it (setRuleEnabled): it raises no alerts for the tenant."
    enabled: Boolean!
    "The tenant's exceptions of this rule, by id."
    exceptions: [RuleException!]!
    "The detector groups that run it; empty for a policy rule (every detector runs those)."
    detectors: [String!]!
  }

  "A rule a detector read but cannot run on Mamori's events, and why."
  type SkippedRule {
    detector: String!
    rule: String!
    reason: String!
    "The field or key that could not be used."
    field: String
    file: String
    line: Int
  }

  input RuleFilter {
    "Only rules of these sources (falco, sigma, mamori, policy)."
    sources: [String!]
    "Only rules whose id, name or a tag contains this text (case-insensitive)."
    search: String
    "Only rules the tenant has enabled (true) or disabled (false)."
    enabled: Boolean
  }

  "Falco's exception, for one of the tenant's rules: the rule raises no alert on an event whose fields compare true (comps) with every value of one tuple of values."
  type RuleException {
    "Unique within the tenant; [A-Za-z0-9._:-], at most 128 characters."
    id: ID!
    "The id of the rule it silences."
    rule: ID!
    name: String!
    "Falco fields (proc.name, proc.cmdline, fd.name, container.image.repository, k8s.ns.name…)."
    fields: [String!]!
    "One operator per field; empty: = for every field."
    comps: [String!]!
    "Tuples of one value per field."
    values: [[String!]!]!
    comment: String!
    "Who wrote this version (the audit trail's actor)."
    updatedBy: String!
    updatedAt: DateTime!
  }

  "A whole exception: upsertRuleException replaces the tenant's exception of that id."
  input RuleExceptionInput {
    id: ID!
    rule: ID!
    name: String = ""
    fields: [String!]!
    "One operator per field (=, !=, <, <=, >, >=, contains, icontains, startswith, endswith, glob, pmatch, in, intersects); empty for = on every field. With in, intersects or pmatch a tuple's value is a list of one."
    comps: [String!] = []
    "Tuples of one value per field, at most 1000; the exception holds when any tuple does."
    values: [[String!]!]!
    comment: String = ""
  }

  type DeleteRuleExceptionPayload {
    id: ID!
    "False when the tenant had no exception of that id (nothing was written)."
    deleted: Boolean!
  }

  "What API discovery learned, and from how many requests."
  type DiscoveredApi {
    "An OpenAPI 3.0.3 document."
    document: JSON!
    "Requests learned from."
    requests: Int!
    "Requests left out: blocked ones and those of other hosts."
    skipped: Int!
    "Requests not learned because the document reached its endpoint limit (500)."
    dropped: Int!
  }

  type DeletePolicyPayload {
    id: ID!
    "False when the tenant had no policy of that id (nothing was written)."
    deleted: Boolean!
  }

  type Query {
    viewer: Viewer!
    "The tenant's events, newest first."
    events(first: Int = 50, after: String, filter: EventFilter): EventConnection!
    "Event counts per time bucket over [from, to), oldest first; empty buckets are left out."
    eventCounts(
      from: DateTime!
      to: DateTime!
      bucketSeconds: Int!
      filter: EventFilter
    ): [EventCount!]!
    "The tenant's alerts, newest first."
    alerts(first: Int = 50, after: String, filter: AlertFilter): AlertConnection!
    "The tenant's agents, by id."
    agents(first: Int = 50, after: String): AgentConnection!
    "The tenant's workloads, by namespace and pod."
    workloads(first: Int = 50, after: String, filter: WorkloadFilter): WorkloadConnection!
    "The tenant's incidents, the most recently seen first."
    incidents(first: Int = 50, after: String, filter: IncidentFilter): IncidentConnection!
    "One of the tenant's incidents; null when it has none of that id."
    incident(id: ID!): Incident
    "The audit trail of one of the tenant's alerts, incidents, policies, rule exceptions or rules, newest first; without targetId, of every target of that type (admins' change history)."
    auditTrail(
      targetType: AuditTargetType!
      targetId: ID
      first: Int = 50
      after: String
    ): AuditEntryConnection!
    "The tenant's runtime policies, by id (POLICIES_UNAVAILABLE when the API has no bus)."
    policies: [Policy!]!
    "API discovery over the tenant's recorded web traffic (the defenders' samples of clean requests and the requests they reported; blocked ones left out): the endpoints, methods, parameters and JSON bodies of the newest limit (1 to 20000) http_request events, of one host when given, as an OpenAPI 3.0.3 document — a starting point for a web application policy's openapi."
    discoveredApi(host: String, from: DateTime, limit: Int = 5000): DiscoveredApi!
    "The rules the detectors run and the tenant's policy rules, by id, with the tenant's tuning (TUNING_UNAVAILABLE when the API has no bus)."
    rules(filter: RuleFilter): [Rule!]!
    "One rule; null when no detector runs it and no policy of the tenant has it."
    rule(id: ID!): Rule
    "Rules the detectors read but cannot run, and why."
    skippedRules: [SkippedRule!]!
    "The tenant's rule exceptions, by id; of one rule when rule is given."
    ruleExceptions(rule: ID): [RuleException!]!
  }

  type SetAlertStatusPayload {
    "The ids asked for; ids of no alert of the tenant are ignored."
    ids: [ID!]!
    status: AlertStatus!
  }

  "Status changes are for admins and analysts, policy and detection tuning changes for admins (FORBIDDEN otherwise); every change is recorded in the audit trail with the token's actor (and the note, at most 4096 characters)."
  type Mutation {
    "Sets the status of some of the tenant's alerts."
    setAlertStatus(ids: [ID!]!, status: AlertStatus!, note: String): SetAlertStatusPayload!
    "Acknowledges one of the tenant's incidents (NOT_FOUND when it has none of that id)."
    acknowledgeIncident(id: ID!, note: String): Incident!
    "Resolves one of the tenant's incidents."
    resolveIncident(id: ID!, note: String): Incident!
    "Suppresses one of the tenant's incidents: it stays suppressed while alerts join it."
    suppressIncident(id: ID!, note: String): Incident!
    "Opens one of the tenant's incidents again."
    reopenIncident(id: ID!, note: String): Incident!
    "Creates or replaces one of the tenant's policies (admins only; BAD_USER_INPUT with extensions.problems when it does not compile)."
    upsertPolicy(input: PolicyInput!): Policy!
    "Deletes one of the tenant's policies (admins only): writes its tombstone."
    deletePolicy(id: ID!): DeletePolicyPayload!
    "Creates or replaces one of the tenant's rule exceptions (admins only). BAD_USER_INPUT, naming the field, when it does not compile, when no detector runs the rule, or when it can never hold on the rule's events. Detectors apply it to the next events they evaluate."
    upsertRuleException(input: RuleExceptionInput!): RuleException!
    "Deletes one of the tenant's rule exceptions (admins only): writes its tombstone."
    deleteRuleException(id: ID!): DeleteRuleExceptionPayload!
    "Enables or disables a rule for the tenant (admins only; NOT_FOUND when no detector runs it and no policy of the tenant has it). The note goes into the audit trail."
    setRuleEnabled(rule: ID!, enabled: Boolean!, note: String): Rule!
  }
`;
