/**
 * The weather tables: the last temperature and alert of each city (`city_weather`) and the
 * locations operators added (`weather_locations`). Cities match case-insensitively, so a CP in
 * "madrid" and a report for "Madrid" are one city; the spelling first stored is kept.
 */
import { asc, eq, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { cityKey, cityKeySql, sameCitySql, tidyCity } from "../city-key.ts";
import { type Db, rowsOf } from "../client.ts";
import { type CityWeatherRow, chargingPoints, cityWeather, type WeatherLocationRow, weatherLocations } from "../schema/index.ts";
import { statement } from "../statements.ts";

export interface RecordedTemperature {
  row: CityWeatherRow;
  /** The alert before this reading; undefined when the city had never been reported. */
  previousAlert: boolean | undefined;
}

/**
 * Stores a city's latest temperature and alert. The city's row is locked while it is read and
 * written, so two reports for one city cannot both see the old alert.
 */
export async function recordCityTemperature(db: Db, report: { city: string; temperatureC: number; alert: boolean; at?: Date }): Promise<RecordedTemperature> {
  const at = report.at ?? new Date();
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(cityWeather).where(sameCitySql(cityWeather.city, report.city)).limit(1).for("update");
    const city = existing?.city ?? tidyCity(report.city);
    const alertSince = report.alert ? (existing?.alert ? existing.alertSince : at) : null;
    const values = { city, temperatureC: report.temperatureC, alert: report.alert, alertSince, updatedAt: at };
    const [row] = await tx
      .insert(cityWeather)
      .values(values)
      .onConflictDoUpdate({
        target: cityWeather.city,
        set: { temperatureC: values.temperatureC, alert: values.alert, alertSince: values.alertSince, updatedAt: at },
      })
      .returning();
    return { row: row!, previousAlert: existing?.alert };
  });
}

export interface CityWeatherWithCps extends CityWeatherRow {
  cpCount: number;
}

/** Every reported city with its number of registered CPs, alerts first then by name. */
export async function listCityWeather(db: Db): Promise<CityWeatherWithCps[]> {
  const rows = rowsOf<{
    city: string;
    temperature_c: number;
    alert: boolean;
    alert_since: string | Date | null;
    updated_at: string | Date;
    cp_count: number | string;
  }>(
    await db.execute(sql`
      select w.city, w.temperature_c, w.alert, w.alert_since, w.updated_at,
             (select count(*) from ${chargingPoints} cp
               where cp.deregistered_at is null
                 and ${cityKeySql(sql`cp.location`)} = ${cityKeySql(sql`w.city`)}) as cp_count
        from ${cityWeather} w
       order by w.alert desc, w.city asc`),
  );
  return rows.map((r) => ({
    city: r.city,
    temperatureC: Number(r.temperature_c),
    alert: r.alert,
    alertSince: r.alert_since === null ? null : new Date(r.alert_since),
    updatedAt: new Date(r.updated_at),
    cpCount: Number(r.cp_count),
  }));
}

/** Whether the city in `column` is under a frost alert now. */
export function inFrostSql(column: SQLWrapper): SQL {
  return sql`exists (select 1 from ${cityWeather} w where w.alert and ${cityKeySql(sql`w.city`)} = ${cityKeySql(column)})`;
}

/** Built once: a session's start and end read their CP's city's alert (src/db/statements.ts). */
const cityWeatherByKey = statement("city_weather_by_key", (db) =>
  db
    .select()
    .from(cityWeather)
    .where(sql`${cityKeySql(cityWeather.city)} = ${sql.placeholder("cityKey")}`)
    .limit(1),
);

export async function findCityWeather(db: Db, city: string): Promise<CityWeatherRow | undefined> {
  const [row] = await cityWeatherByKey(db, { cityKey: cityKey(city) });
  return row;
}

/** Whether the city a CP is located in is under a frost alert now (no report: no alert). */
export async function isCityInAlert(db: Db, city: string): Promise<boolean> {
  return (await findCityWeather(db, city))?.alert ?? false;
}

export async function listWeatherLocations(db: Db): Promise<WeatherLocationRow[]> {
  return db.select().from(weatherLocations).orderBy(asc(weatherLocations.city));
}

/** Adds an operator location; `created` is false when the city was already there (any case). */
export async function addWeatherLocation(db: Db, city: string, addedBy: string): Promise<{ row: WeatherLocationRow; created: boolean }> {
  const [existing] = await db.select().from(weatherLocations).where(sameCitySql(weatherLocations.city, city)).limit(1);
  if (existing) return { row: existing, created: false };
  const [inserted] = await db
    .insert(weatherLocations)
    .values({ city: tidyCity(city), addedBy })
    .onConflictDoNothing()
    .returning();
  if (inserted) return { row: inserted, created: true };
  // Another request added the same spelling between our select and insert.
  const [raced] = await db
    .select()
    .from(weatherLocations)
    .where(eq(weatherLocations.city, tidyCity(city)))
    .limit(1);
  return { row: raced!, created: false };
}

/** Removes an operator location; false when there was none by that name. */
export async function removeWeatherLocation(db: Db, city: string): Promise<boolean> {
  const removed = await db.delete(weatherLocations).where(sameCitySql(weatherLocations.city, city)).returning({ city: weatherLocations.city });
  return removed.length > 0;
}
