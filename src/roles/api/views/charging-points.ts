/** Charging points as the API shows them: state, location and its temperature, session in progress. */
import { and, asc, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../../db/client.ts";
import { chargingPoints } from "../../../db/schema/index.ts";
import type { CpState } from "../../../domain/cp-state.ts";
import { cityKey } from "../../../domain/weather-policy.ts";
import type { ChargingPointView, CityWeatherView, SessionView } from "../shapes.ts";
import { sessionsInProgress } from "./sessions.ts";
import { iso, isoOrNull } from "./time.ts";
import { listCityWeather, weatherByCity } from "./weather.ts";

type CpRow = typeof chargingPoints.$inferSelect;

export function toChargingPointView(row: CpRow, weather: Map<string, CityWeatherView>, sessionsByCp: Map<string, SessionView>): ChargingPointView {
  const city = weather.get(cityKey(row.location));
  return {
    cp_id: row.cpId,
    location: row.location,
    status: row.status as CpState,
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
  if (f.location) conditions.push(sql`lower(regexp_replace(trim(${chargingPoints.location}), '\\s+', ' ', 'g')) = ${cityKey(f.location)}`);
  return conditions.length ? and(...conditions) : undefined;
}

async function views(db: Db, rows: CpRow[], weather?: CityWeatherView[]): Promise<ChargingPointView[]> {
  if (rows.length === 0) return [];
  const [cities, sessions] = await Promise.all([weather ?? listCityWeather(db), sessionsInProgress(db)]);
  const byCp = new Map(sessions.map((s) => [s.cp_id, s]));
  const byCity = weatherByCity(cities);
  return rows.map((r) => toChargingPointView(r, byCity, byCp));
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
