/** Charging points as the API shows them: state, location and its temperature, session in progress. */
import { and, asc, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { cityKey, sameCitySql } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { type CpRow, chargingPoints, type OcppChargerRow, ocppChargers } from "../../../db/schema/index.ts";
import type { CpState } from "../../../domain/cp-state.ts";
import type { ChargingPointView, CityWeatherView, SessionView } from "../shapes.ts";
import { sessionsInProgress } from "./sessions.ts";
import { iso, isoOrNull } from "./time.ts";
import { listCityWeather, weatherByCity } from "./weather.ts";

function connectionState(row: CpRow, ocpp?: OcppChargerRow): ChargingPointView["connection_state"] {
  if (ocpp) return ocpp.connection;
  if (row.connected) return "online";
  return row.lastConnectionTime ? "offline" : "never";
}

export function toChargingPointView(
  row: CpRow,
  weather: Map<string, CityWeatherView>,
  sessionsByCp: Map<string, SessionView>,
  ocpp?: OcppChargerRow,
): ChargingPointView {
  const city = weather.get(cityKey(row.location));
  return {
    cp_id: row.cpId,
    location: row.location,
    status: row.status,
    status_reason: row.statusReason,
    status_changed_at: iso(row.statusChangedAt),
    price_per_kwh: row.pricePerKwh,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    last_connection_time: isoOrNull(row.lastConnectionTime),
    deregistered_at: isoOrNull(row.deregisteredAt),
    temperature_c: city?.temperature_c ?? null,
    weather_alert: city?.alert ?? false,
    session: sessionsByCp.get(row.cpId) ?? null,
    protocol: row.protocol,
    protocol_version: row.protocolVersion,
    vendor: row.vendor,
    model: row.model,
    serial_number: row.serialNumber,
    firmware_version: row.firmwareVersion,
    connection_state: connectionState(row, ocpp),
    ocpp: ocpp
      ? {
          security_profile: ocpp.securityProfile,
          gateway: ocpp.gateway,
          connected_at: isoOrNull(ocpp.connectedAt),
          disconnected_at: isoOrNull(ocpp.disconnectedAt),
        }
      : null,
  };
}

export interface CpFilter {
  status?: CpState;
  /** Matched like the weather office matches cities: case and surrounding spaces ignored. */
  location?: string;
  includeDeregistered?: boolean;
}

function whereOf(f: CpFilter): SQL | undefined {
  const conditions: SQL[] = [];
  if (!f.includeDeregistered) conditions.push(isNull(chargingPoints.deregisteredAt));
  if (f.status) conditions.push(eq(chargingPoints.status, f.status));
  if (f.location) conditions.push(sameCitySql(chargingPoints.location, f.location));
  return conditions.length ? and(...conditions) : undefined;
}

/** The gateway's rows (connection, profile, gateway) of the OCPP chargers among `rows`, by id. */
export async function ocppRowsOf(db: Db, rows: CpRow[]): Promise<Map<string, OcppChargerRow>> {
  const ids = rows.filter((r) => r.protocol === "ocpp").map((r) => r.cpId);
  const chargers = ids.length ? await db.select().from(ocppChargers).where(inArray(ocppChargers.cpId, ids)) : [];
  return new Map(chargers.map((c) => [c.cpId, c]));
}

async function views(db: Db, rows: CpRow[], weather?: CityWeatherView[]): Promise<ChargingPointView[]> {
  if (rows.length === 0) return [];
  const [cities, sessions, ocppOf] = await Promise.all([weather ?? listCityWeather(db), sessionsInProgress(db), ocppRowsOf(db, rows)]);
  const byCp = new Map(sessions.map((s) => [s.cp_id, s]));
  const byCity = weatherByCity(cities);
  return rows.map((r) => toChargingPointView(r, byCity, byCp, ocppOf.get(r.cpId)));
}

/** Ordered by CP id. `weather` can be passed when the caller already read it. */
export async function listChargingPoints(db: Db, f: CpFilter = {}, weather?: CityWeatherView[]): Promise<ChargingPointView[]> {
  const rows = await db.select().from(chargingPoints).where(whereOf(f)).orderBy(asc(chargingPoints.cpId));
  return views(db, rows, weather);
}

/** A CP by id, deregistered or not. */
export async function findChargingPoint(db: Db, cpId: string): Promise<ChargingPointView | undefined> {
  const rows = await db.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId)).limit(1);
  return (await views(db, rows))[0];
}
