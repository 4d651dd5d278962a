/** The last temperature reported for each city, as the dashboard and the CP views show it. */
import { asc } from "drizzle-orm";
import { cityKey } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { type CityWeatherRow, cityWeather, type WeatherLocationRow } from "../../../db/schema/index.ts";
import type { CityWeatherView, WeatherLocationView } from "../shapes.ts";
import { iso, isoOrNull } from "./time.ts";

export function toCityWeatherView(row: CityWeatherRow): CityWeatherView {
  return {
    city: row.city,
    temperature_c: row.temperatureC,
    alert: row.alert,
    alert_since: isoOrNull(row.alertSince),
    updated_at: iso(row.updatedAt),
  };
}

export function toWeatherLocationView(row: WeatherLocationRow): WeatherLocationView {
  return { city: row.city, added_by: row.addedBy, added_at: iso(row.addedAt) };
}

export async function listCityWeather(db: Db): Promise<CityWeatherView[]> {
  const rows = await db.select().from(cityWeather).orderBy(asc(cityWeather.city));
  return rows.map(toCityWeatherView);
}

/** Weather by city key, so a CP's location finds its city however it is spelled (case, spaces). */
export function weatherByCity(rows: CityWeatherView[]): Map<string, CityWeatherView> {
  return new Map(rows.map((r) => [cityKey(r.city), r]));
}
