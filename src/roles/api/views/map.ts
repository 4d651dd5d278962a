/** Chargers by city for the map: counts per state, where each city is, its temperature and frost. */
import { count, isNull, min, sql } from "drizzle-orm";
import { cityKeySql } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { chargingPoints, cityCoordinates } from "../../../db/schema/index.ts";
import type { MapView } from "../console-shapes.ts";
import { countsByState } from "./summary.ts";
import { listCityWeather, weatherByCity } from "./weather.ts";

export async function chargersByCity(db: Db): Promise<MapView> {
  const key = cityKeySql(chargingPoints.location);
  const [groups, places, weather] = await Promise.all([
    db
      .select({ key: sql<string>`${key}`, city: min(chargingPoints.location), status: chargingPoints.status, n: count() })
      .from(chargingPoints)
      .where(isNull(chargingPoints.deregisteredAt))
      .groupBy(key, chargingPoints.status),
    db.select().from(cityCoordinates),
    listCityWeather(db),
  ]);
  const cities = new Map<string, { city: string; counts: Record<string, number> }>();
  for (const g of groups) {
    const entry = cities.get(g.key) ?? { city: (g.city ?? g.key).trim(), counts: {} };
    entry.counts[g.status] = (entry.counts[g.status] ?? 0) + g.n;
    cities.set(g.key, entry);
  }
  const placeOf = new Map(places.map((p) => [p.cityKey, p]));
  const byCity = weatherByCity(weather);
  const view: MapView = { cities: [], unplaced: [] };
  for (const [k, { city, counts }] of [...cities].sort(([a], [b]) => a.localeCompare(b))) {
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const place = placeOf.get(k);
    if (!place) {
      view.unplaced.push({ city, charging_points: total });
      continue;
    }
    const w = byCity.get(k);
    view.cities.push({
      city: place.city,
      latitude: place.latitude,
      longitude: place.longitude,
      source: place.source,
      charging_points: total,
      by_state: countsByState(counts),
      temperature_c: w?.temperature_c ?? null,
      frost: w?.alert ?? false,
    });
  }
  return view;
}
