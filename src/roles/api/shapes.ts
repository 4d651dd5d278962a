/**
 * The JSON shapes the Central API returns, declared once: routes document themselves with these,
 * the dashboard and the driver read them. Times are ISO 8601 strings; money in euros; energy in kWh.
 * Nothing here ever carries a key, credential or token.
 */
import * as v from "valibot";
import { CP_STATES } from "../../domain/cp-state.ts";
import { networkSummarySchema } from "./summary-shapes.ts";

const isoTime = v.pipe(v.string(), v.description("ISO 8601 time"));
const isoTimeOrNull = v.nullable(isoTime);

export const cpStateSchema = v.picklist(CP_STATES);

export const sessionSchema = v.object({
  session_id: v.string(),
  cp_id: v.string(),
  driver_id: v.string(),
  /** IN_PROGRESS or FINISHED */
  status: v.string(),
  price_per_kwh: v.number(),
  power_kw: v.number(),
  energy_kwh: v.number(),
  cost_eur: v.number(),
  started_at: isoTime,
  updated_at: isoTime,
  ended_at: isoTimeOrNull,
  end_reason: v.nullable(v.string()),
  /** Seconds from start to end, or to now while in progress. */
  duration_s: v.number(),
});
export type SessionView = v.InferOutput<typeof sessionSchema>;

export const chargingPointSchema = v.object({
  cp_id: v.string(),
  location: v.string(),
  status: cpStateSchema,
  status_reason: v.nullable(v.string()),
  status_changed_at: isoTime,
  price_per_kwh: v.number(),
  created_at: isoTime,
  updated_at: isoTime,
  last_connection_time: isoTimeOrNull,
  deregistered_at: isoTimeOrNull,
  /** Last temperature reported for the CP's location, null when none was. */
  temperature_c: v.nullable(v.number()),
  weather_alert: v.boolean(),
  /** The session in progress at this CP, if any. */
  session: v.nullable(sessionSchema),
  /** How it talks to evnet: evnet (its own engine and monitor) or ocpp (a charger through the gateway). */
  protocol: v.picklist(["evnet", "ocpp"]),
  /** For OCPP: 1.6 or 2.0.1. */
  protocol_version: v.nullable(v.string()),
  vendor: v.nullable(v.string()),
  model: v.nullable(v.string()),
  serial_number: v.nullable(v.string()),
  firmware_version: v.nullable(v.string()),
  /** online: connected now (an OCPP charger's socket, an evnet CP's heartbeats); offline; never: not yet. */
  connection_state: v.picklist(["online", "offline", "never"]),
  /** OCPP chargers: the security profile it must connect with and where it is (or was last) connected. */
  ocpp: v.nullable(
    v.object({
      security_profile: v.number(),
      gateway: v.nullable(v.string()),
      connected_at: isoTimeOrNull,
      disconnected_at: isoTimeOrNull,
    }),
  ),
});
export type ChargingPointView = v.InferOutput<typeof chargingPointSchema>;

export const driverSchema = v.object({
  driver_id: v.string(),
  /** IDLE, WAITING or CHARGING */
  status: v.string(),
  current_session_id: v.nullable(v.string()),
  created_at: isoTime,
  last_seen_at: isoTime,
  sessions_count: v.number(),
  energy_kwh_total: v.number(),
  cost_eur_total: v.number(),
  /** The driver's session in progress, if any. */
  session: v.nullable(sessionSchema),
});
export type DriverView = v.InferOutput<typeof driverSchema>;

export const pagingSchema = v.object({ limit: v.number(), offset: v.number(), total: v.number() });

export const serviceNames = ["api", "database", "kafka", "registry", "central", "weather"] as const;
export const serviceHealthSchema = v.object({
  name: v.string(),
  status: v.picklist(["up", "down", "unknown"]),
  /** What was checked or why it is down, in words. */
  detail: v.string(),
  latency_ms: v.nullable(v.number()),
  /** For services known by their heartbeats: the newest one. */
  last_seen_at: isoTimeOrNull,
  instances: v.number(),
});
export type ServiceHealth = v.InferOutput<typeof serviceHealthSchema>;

export const servicesHealthSchema = v.object({
  /** ok when every service is up; degraded otherwise. */
  status: v.picklist(["ok", "degraded"]),
  checked_at: isoTime,
  services: v.array(serviceHealthSchema),
});
export type ServicesHealth = v.InferOutput<typeof servicesHealthSchema>;

export const cityWeatherSchema = v.object({
  city: v.string(),
  temperature_c: v.number(),
  alert: v.boolean(),
  alert_since: isoTimeOrNull,
  updated_at: isoTime,
});
export type CityWeatherView = v.InferOutput<typeof cityWeatherSchema>;

export const auditEventSchema = v.object({
  id: v.number(),
  at: isoTime,
  event_type: v.string(),
  actor_type: v.string(),
  actor_id: v.nullable(v.string()),
  resource: v.nullable(v.string()),
  action: v.string(),
  outcome: v.string(),
  reason: v.nullable(v.string()),
  source_address: v.nullable(v.string()),
  details: v.nullable(v.unknown()),
});
export type AuditEventView = v.InferOutput<typeof auditEventSchema>;

/**
 * What the live stream pushes: the network's figures and the short lists the dashboard shows, at
 * one moment. The chargers themselves are not in it (there may be thousands): the dashboard reads
 * the page it shows from GET /ev/central/fleet whenever a snapshot says something changed.
 */
export const snapshotSchema = v.object({
  at: isoTime,
  summary: networkSummarySchema,
  /** The newest sessions in progress (at most 50; summary.sessions_in_progress counts them all). */
  sessions_in_progress: v.array(sessionSchema),
  recent_sessions: v.array(sessionSchema),
  /** Drivers charging or seen most recently (at most 50; summary.drivers counts them all). */
  drivers: v.array(driverSchema),
  weather: v.array(cityWeatherSchema),
  services: servicesHealthSchema,
  /** Recent failures and errors (audit events with outcome failure or error). */
  alerts: v.array(auditEventSchema),
  audit_events: v.array(auditEventSchema),
});
export type Snapshot = v.InferOutput<typeof snapshotSchema>;
