export { readWarehouseConfig, type WarehouseConfig } from './config.js';
export { createWarehouseClient, type WarehouseClientOptions } from './client.js';
export {
  MIGRATIONS,
  MIGRATIONS_TABLE,
  migrate,
  type Migration,
  type MigrationReport,
  type SchemaContext,
} from './schema/migrations.js';
export { storedPayload, type EventKind, type EventRow } from './rows.js';
export {
  EVENT_ROW_COLUMNS,
  EVENT_ROW_FORMAT,
  EVENT_ROW_STRUCTURE,
  appendEventRow,
  createRowBuffer,
  encodeEventRow,
  type RowBuffer,
} from './event-row.js';
export { createEventRowEncoder, type EventRowEncoder, type RowOutcome } from './row-encoder.js';
export {
  createWarehouse,
  INCIDENT_WINDOW_SECONDS,
  openWarehouse,
  type CreateWarehouseOptions,
  type Warehouse,
} from './warehouse.js';
export {
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  AUDIT_TARGET_TYPES,
  INCIDENT_STATUSES,
  TRIAGE_ACTIONS,
  type AgentInput,
  type AlertFilter,
  type AlertInput,
  type AlertSeverity,
  type AlertStatus,
  type AuditEntry,
  type AuditTarget,
  type AuditTargetType,
  type EventCount,
  type EventFilter,
  type IncidentFilter,
  type IncidentStatus,
  type IncidentWorkload,
  type Page,
  type PageRequest,
  type StoredAgent,
  type StoredAlert,
  type StoredEvent,
  type StoredIncident,
  type TimeRange,
  type TriageAction,
  type TriageOptions,
  type Workload,
  type WorkloadContainer,
  type WorkloadFilter,
  type WorkloadListFilter,
} from './types.js';
