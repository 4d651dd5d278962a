/**
 * A network of thousands of chargers written straight into the database (one statement each), as
 * Central and the weather office would leave it: chargers spread over cities and states, some
 * supplying a session, cities with temperatures (one in frost) and places on the map.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";

export const FLEET_CITIES = [
  { city: "Madrid", temperature: 14.5, latitude: 40.4168, longitude: -3.7038 },
  { city: "Barcelona", temperature: 16, latitude: 41.3874, longitude: 2.1686 },
  { city: "Valencia", temperature: 19, latitude: 39.4699, longitude: -0.3763 },
  { city: "Sevilla", temperature: 22, latitude: 37.3891, longitude: -5.9845 },
  { city: "Bilbao", temperature: 13, latitude: 43.263, longitude: -2.935 },
  { city: "Oslo", temperature: -6.2, latitude: 59.9139, longitude: 10.7522 },
  { city: "Helsinki", temperature: -3, latitude: 60.1699, longitude: 24.9384 },
  { city: "Zaragoza", temperature: 12, latitude: 41.6488, longitude: -0.8891 },
] as const;

/** The state of charger n (1-based): mostly free, a tenth supplying, a few of each other state. */
export function stateOf(n: number, city: string): string {
  if (city === "Oslo" || city === "Helsinki") return n % 7 === 0 ? "DISCONNECTED" : "OUT_OF_SERVICE";
  if (n % 10 === 0) return "SUPPLYING";
  if (n % 97 === 0) return "BROKEN";
  if (n % 89 === 0) return "STOPPED";
  if (n % 53 === 0) return "DISCONNECTED";
  return "ACTIVE";
}

/** Writes `count` chargers CP_00001... over FLEET_CITIES (round robin), with sessions for the supplying ones. */
export async function seedFleet(db: Db, count: number): Promise<void> {
  const cities = FLEET_CITIES.map((c) => c.city);
  const rows = Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    const city = cities[i % cities.length]!;
    return { id: `CP_${String(n).padStart(5, "0")}`, city, state: stateOf(n, city), price: 0.25 + (n % 20) / 100 };
  });
  await db.execute(sql`
    insert into charging_points (cp_id, location, price_per_kwh, status, status_reason, connected, channel_state, last_connection_time)
    select v.id, v.city, v.price, v.state, case v.state when 'OUT_OF_SERVICE' then 'weather alert' when 'BROKEN' then 'engine reports KO' else null end,
           v.state <> 'DISCONNECTED', 'active', now()
      from json_to_recordset(${JSON.stringify(rows)}::json) as v(id text, city text, state text, price float8)`);
  const supplying = rows.filter((r) => r.state === "SUPPLYING");
  const drivers = supplying.map((r, i) => ({ driver: `DRIVER_${String(i + 1).padStart(5, "0")}`, cp: r.id, price: r.price, kwh: ((i % 50) + 1) / 10 }));
  await db.execute(sql`
    insert into drivers (driver_id, status, current_session_id)
    select v.driver, 'CHARGING', 'S-' || v.cp from json_to_recordset(${JSON.stringify(drivers)}::json) as v(driver text, cp text)`);
  await db.execute(sql`
    insert into charging_sessions (session_id, cp_id, driver_id, status, price_per_kwh, power_kw, energy_kwh, cost_eur, started_at)
    select 'S-' || v.cp, v.cp, v.driver, 'IN_PROGRESS', v.price, 11, v.kwh, round((v.kwh * v.price)::numeric, 2), now() - interval '10 minutes'
      from json_to_recordset(${JSON.stringify(drivers)}::json) as v(driver text, cp text, price float8, kwh float8)`);
  for (const c of FLEET_CITIES) {
    const alert = c.temperature < 0;
    await db.execute(sql`
      insert into city_weather (city, temperature_c, alert, alert_since) values (${c.city}, ${c.temperature}, ${alert}, ${alert ? new Date().toISOString() : null}::timestamptz)`);
    if (c.city !== "Zaragoza")
      await db.execute(sql`
        insert into city_coordinates (city_key, city, latitude, longitude, source) values (${c.city.toLowerCase()}, ${c.city}, ${c.latitude}, ${c.longitude}, 'weather')`);
  }
}
