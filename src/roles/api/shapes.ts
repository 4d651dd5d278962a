/**
 * The JSON shapes the Central API returns, declared once: the routes document themselves with
 * these, and its clients (the driver, the CP monitor, the weather office) validate the replies
 * they read with them (src/http/json-client.ts). Times are ISO 8601 strings; money in euros;
 * energy in kWh. Nothing here carries a credential or a token; only the authentication reply
 * carries a key, the CP's own, once.
 */
import * as v from "valibot";
import { ACTOR_TYPES, OUTCOMES } from "../../audit/vocabulary.ts";
import { OPERATOR_COMMANDS } from "../../bus/control-messages.ts";
import { END_REASONS } from "../../domain/billing.ts";
import { CONNECTION_STATES, CP_PROTOCOLS } from "../../domain/cp-protocol.ts";
import { CP_STATES } from "../../domain/cp-state.ts";
import { DRIVER_STATES, SESSION_STATES } from "../../domain/session-state.ts";
import { ALERT_TRANSITIONS } from "../../domain/weather-policy.ts";
import { networkSummarySchema } from "./summary-shapes.ts";

export const isoTime = v.pipe(v.string(), v.isoTimestamp(), v.description("ISO 8601 time"));
const isoTimeOrNull = v.nullable(isoTime);

export const cpStateSchema = v.picklist(CP_STATES);

export const sessionSchema = v.object({
  session_id: v.string(),
  cp_id: v.string(),
  driver_id: v.string(),
  status: v.picklist(SESSION_STATES),
  price_per_kwh: v.number(),
  power_kw: v.number(),
  energy_kwh: v.number(),
  cost_eur: v.number(),
  started_at: isoTime,
  updated_at: isoTime,
  ended_at: isoTimeOrNull,
  end_reason: v.nullable(v.picklist(END_REASONS)),
  /** Seconds from start to end, or to now while in progress. */
  duration_s: v.number(),
});
export type SessionView = v.InferOutput<typeof sessionSchema>;

export const pagingSchema = v.object({ limit: v.number(), offset: v.number(), total: v.number() });

/** What the sessions that match a filter add up to. */
export const sessionTotalsSchema = v.object({ sessions: v.number(), energy_kwh: v.number(), cost_eur: v.number(), duration_s: v.number() });

/** `GET /ev/central/sessions`: one page, newest first, and the totals of every session that matches. */
export const sessionListSchema = v.object({ sessions: v.array(sessionSchema), paging: pagingSchema, totals: sessionTotalsSchema });

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
  protocol: v.picklist(CP_PROTOCOLS),
  /** For OCPP: 1.6 or 2.0.1. */
  protocol_version: v.nullable(v.string()),
  vendor: v.nullable(v.string()),
  model: v.nullable(v.string()),
  serial_number: v.nullable(v.string()),
  firmware_version: v.nullable(v.string()),
  /** online: connected now (an OCPP charger's socket, an evnet CP's heartbeats); offline; never: not yet. */
  connection_state: v.picklist(CONNECTION_STATES),
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

/** `GET /ev/central/charging-points` (and `all-charging-points`), by id. */
export const chargingPointListSchema = v.object({ charging_points: v.array(chargingPointSchema) });

export const driverSchema = v.object({
  driver_id: v.string(),
  status: v.picklist(DRIVER_STATES),
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

/** A city's last temperature and alert. */
export const cityWeatherSchema = v.object({
  city: v.string(),
  temperature_c: v.number(),
  alert: v.boolean(),
  alert_since: isoTimeOrNull,
  updated_at: isoTime,
});
export type CityWeatherView = v.InferOutput<typeof cityWeatherSchema>;

/** The answer to `PUT /ev/central/city-temperature`: the stored reading and what it did to the city's alert. */
export const cityWeatherStoredSchema = v.object({ ...cityWeatherSchema.entries, transition: v.picklist(ALERT_TRANSITIONS) });
export type CityWeatherStored = v.InferOutput<typeof cityWeatherStoredSchema>;

/** `GET /ev/central/city-temperature`: every reported city, with its registered CPs counted. */
export const cityWeatherListSchema = v.object({ cities: v.array(v.object({ ...cityWeatherSchema.entries, cp_count: v.number() })) });

/** A location an operator added to the weather watch. */
export const weatherLocationSchema = v.object({ city: v.string(), added_by: v.string(), added_at: isoTime });
export type WeatherLocationView = v.InferOutput<typeof weatherLocationSchema>;
export const weatherLocationListSchema = v.object({ locations: v.array(weatherLocationSchema) });

export const auditEventSchema = v.object({
  id: v.number(),
  at: isoTime,
  event_type: v.string(),
  actor_type: v.picklist(ACTOR_TYPES),
  actor_id: v.nullable(v.string()),
  resource: v.nullable(v.string()),
  action: v.string(),
  outcome: v.picklist(OUTCOMES),
  reason: v.nullable(v.string()),
  source_address: v.nullable(v.string()),
  details: v.nullable(v.unknown()),
});
export type AuditEventView = v.InferOutput<typeof auditEventSchema>;

/** `GET /ev/central/audit-events`: one page, newest first; `next_cursor` asks for the page after it. */
export const auditEventPageSchema = v.object({
  audit_events: v.array(auditEventSchema),
  paging: v.object({ ...pagingSchema.entries, next_cursor: v.nullable(v.string()) }),
});

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

/** `POST /ev/central/auth`: the CP's fresh channel key, returned once. */
export const channelKeySchema = v.object({
  cp_id: v.string(),
  key_id: v.string(),
  /** base64 of the 32-byte AES-256-GCM channel key: returned once, keep it secret. */
  key: v.string(),
  algorithm: v.literal("AES-256-GCM"),
  issued_at: isoTime,
  message: v.string(),
});
export type ChannelKeyReply = v.InferOutput<typeof channelKeySchema>;

/** `POST /ev/central/drivers`: a driver's credential, shown once. */
export const registeredDriverSchema = v.object({ driver_id: v.string(), driver_credential: v.string(), message: v.string() });
export type RegisteredDriver = v.InferOutput<typeof registeredDriverSchema>;

/** `POST /ev/central/drivers/:driver_id/auth`: a driver's fresh channel key. */
export const driverKeySchema = v.object({
  driver_id: v.string(),
  key_id: v.string(),
  /** base64 of the 32-byte AES-256-GCM channel key: returned once, keep it secret. */
  key: v.string(),
  algorithm: v.literal("AES-256-GCM"),
  issued_at: isoTime,
});
export type DriverKeyReply = v.InferOutput<typeof driverKeySchema>;

/** `GET /ev/central/charging-points/:cp_id/key-status`: the active key's id, never the key. */
export const keyStatusSchema = v.object({ cp_id: v.string(), key_id: v.nullable(v.string()), issued_at: isoTimeOrNull });
export type KeyStatus = v.InferOutput<typeof keyStatusSchema>;

/** `POST /ev/central/charging-points/:cp_id/revoke-key` (operator). */
export const keyRevocationSchema = v.object({ cp_id: v.string(), revoked_key_ids: v.array(v.string()), message: v.string() });

/** `POST /ev/central/charging-points/:cp_id/stop|resume` (operator): handed to Central, which applies it. */
export const operatorCommandAcceptedSchema = v.object({ cp_id: v.string(), command: v.picklist(OPERATOR_COMMANDS), message: v.string() });

/** `GET /ev/central/health`: the API's own health and its database's (503 with the same body when the database does not answer). */
export const apiHealthSchema = v.object({
  status: v.picklist(["ok", "degraded"]),
  service: v.literal("api"),
  uptime_s: v.number(),
  database: v.picklist(["ok", "down"]),
  bus: v.picklist(["kafka", "memory"]),
});
