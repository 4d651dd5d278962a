/** The last temperature reported for each city, as the dashboard and the CP views show it. */
import { asc } from "drizzle-orm";
import { cityKey } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { cityWeather } from "../../../db/schema/index.ts";
import type { CityWeatherView } from "../shapes.ts";
import { iso, isoOrNull } from "./time.ts";

export async function listCityWeather(db: Db): Promise<CityWeatherView[]> {
  const rows = await db.select().from(cityWeather).orderBy(asc(cityWeather.city));
  return rows.map((r) => ({
    city: r.city,
    temperature_c: r.temperatureC,
    alert: r.alert,
    alert_since: isoOrNull(r.alertSince),
    updated_at: iso(r.updatedAt),
  }));
}

/** Weather by city key, so a CP's location finds its city however it is spelled (case, spaces). */
export function weatherByCity(rows: CityWeatherView[]): Map<string, CityWeatherView> {
  return new Map(rows.map((r) => [cityKey(r.city), r]));
}
