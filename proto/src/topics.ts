/**
 * Bus topics and record headers shared by every service: the part of the contract that lives
 * on the bus rather than on the wire.
 */
export const Topics = {
  /** Every accepted Event, keyed by agent id (per-agent order), protobuf `mamori.v1.Event`. */
  events: 'mamori.events.v1',
  /** Events ingest refused (invalid), as received, with the reason in headers; kept for audit. */
  eventsRejected: 'mamori.events.rejected.v1',
  /** Agent status (connected, heartbeat, disconnected), keyed by `<tenant>/<agent>`, protobuf `mamori.v1.AgentStatus`. */
  agents: 'mamori.agents.v1',
  /** Alerts raised by detectors, keyed by `<tenant>/<agent>`, protobuf `mamori.v1.Alert`. */
  alerts: 'mamori.alerts.v1',
  /**
   * Runtime policies, keyed `<tenant>/<policy id>`, protobuf `mamori.v1.Policy`; compacted (the
   * last record per key is the policy, or its deletion when `deleted` is set). Written by the
   * API, read from the beginning by every ingest replica, which pushes each tenant's set to its
   * agents.
   */
  policies: 'mamori.policies.v1',
  /**
   * Detection tuning (rule exceptions and per-tenant rule settings), keyed
   * `<tenant>/exception/<id>` or `<tenant>/setting/<rule>`, protobuf `mamori.v1.RuleTuning`;
   * compacted like the policies. Written by the API, read from the beginning by every detector.
   */
  ruleTuning: 'mamori.rule-tuning.v1',
  /**
   * The rules each detector group runs, keyed by its consumer group, protobuf
   * `mamori.v1.RuleCatalog`; compacted. Written by detectors on every (re)load, read by the API.
   */
  ruleCatalog: 'mamori.detector.rules.v1',
} as const;

/**
 * Header names on event records. Records of `Topics.events` carry only `kind`: the key is
 * `<tenant>/<agent>` and the event itself holds tenant, agent and times, and every header
 * costs on each of millions of records (kafkajs encodes each one separately). Records of
 * `Topics.eventsRejected` carry all of them, for audit.
 */
export const EventHeaders = {
  /** The payload kind (oneof member name), so consumers can filter without decoding. */
  kind: 'mamori-kind',
  tenant: 'mamori-tenant',
  agent: 'mamori-agent',
  /** The agent's batch sequence the event arrived in. */
  sequence: 'mamori-seq',
  /** Why the event was refused: the field and the reason. */
  rejectField: 'mamori-reject-field',
  rejectReason: 'mamori-reject-reason',
} as const;
