/**
 * The JSON shapes of the operator's console endpoints (network summary, a page of chargers, a
 * charger's details and readings, the map), declared once for the routes and their docs.
 * Times are ISO 8601 strings; energy in kWh, power in kW, money in euros.
 */
import * as v from "valibot";
import { chargingPointSchema, pagingSchema } from "./shapes.ts";
import { countsByStateSchema } from "./summary-shapes.ts";

const isoTime = v.pipe(v.string(), v.description("ISO 8601 time"));

export { type CountsByState, countsByStateSchema, type NetworkSummary, networkSummarySchema } from "./summary-shapes.ts";

export const FLEET_SORTS = ["cp_id", "city", "status", "price", "changed", "power"] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export const fleetPageSchema = v.object({
  charging_points: v.array(chargingPointSchema),
  paging: pagingSchema,
  /** How many chargers match the search and city, per state (the state filter left out): the filter's counts. */
  counts_by_state: countsByStateSchema,
});

export const protocolSchema = v.object({
  /** evnet (sealed messages over Kafka) or the charger's own protocol, e.g. ocpp1.6. */
  name: v.string(),
  /** In words, for people. */
  description: v.string(),
});
export type ProtocolView = v.InferOutput<typeof protocolSchema>;

export const stateChangeSchema = v.object({
  at: isoTime,
  from: v.nullable(v.string()),
  to: v.nullable(v.string()),
  reason: v.nullable(v.string()),
  actor_type: v.string(),
  actor_id: v.nullable(v.string()),
});
export type StateChangeView = v.InferOutput<typeof stateChangeSchema>;

export const coordinatesSchema = v.object({
  latitude: v.number(),
  longitude: v.number(),
  /** weather (the provider's) or operator */
  source: v.string(),
});

export const chargerDetailsSchema = v.object({
  charging_point: chargingPointSchema,
  protocol: protocolSchema,
  /** Its current channel key's age (never the key): null when it holds none. */
  key: v.nullable(v.object({ issued_at: isoTime, age_s: v.number() })),
  /** Its registry credential: when issued, when it expires. */
  credential: v.nullable(v.object({ issued_at: isoTime, expires_at: isoTime, last_used_at: v.nullable(isoTime) })),
  coordinates: v.nullable(coordinatesSchema),
  /** Newest first. */
  state_history: v.array(stateChangeSchema),
});
export type ChargerDetails = v.InferOutput<typeof chargerDetailsSchema>;

const pointSchema = v.object({ at: isoTime, power_kw: v.number(), energy_kwh: v.number() });
export type ReadingPoint = v.InferOutput<typeof pointSchema>;

export const chargerReadingsSchema = v.object({
  /** The session in progress: its readings from start to now (energy of the session). */
  session: v.nullable(v.object({ session_id: v.string(), started_at: isoTime, points: v.array(pointSchema) })),
  /** The last 24 hours: power, and energy delivered since the start of the window (cumulative over sessions). */
  day: v.object({ from: isoTime, to: isoTime, points: v.array(pointSchema) }),
});
export type ChargerReadings = v.InferOutput<typeof chargerReadingsSchema>;

export const mapCitySchema = v.object({
  city: v.string(),
  latitude: v.number(),
  longitude: v.number(),
  /** weather or operator */
  source: v.string(),
  charging_points: v.number(),
  by_state: countsByStateSchema,
  temperature_c: v.nullable(v.number()),
  frost: v.boolean(),
});
export const mapSchema = v.object({
  cities: v.array(mapCitySchema),
  /** Cities with chargers but no known place yet (an operator can set it). */
  unplaced: v.array(v.object({ city: v.string(), charging_points: v.number() })),
});
export type MapView = v.InferOutput<typeof mapSchema>;
