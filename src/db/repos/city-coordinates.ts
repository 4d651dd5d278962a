/** Where cities are, for the map: the weather provider's word unless an operator set them. */
import { eq, sql } from "drizzle-orm";
import type { Coordinates } from "../../domain/temperature-reading.ts";
import { cityKey, tidyCity } from "../city-key.ts";
import type { Db } from "../client.ts";
import { type CityCoordinatesRow, type CoordinatesSource, cityCoordinates } from "../schema/index.ts";

/**
 * Stores a city's place. The provider's coordinates never replace an operator's; an operator's
 * replace anything. Returns the row as it stands afterwards.
 */
export async function setCityCoordinates(db: Db, city: string, at: Coordinates, source: CoordinatesSource): Promise<CityCoordinatesRow | undefined> {
  const values = { cityKey: cityKey(city), city: tidyCity(city), latitude: at.latitude, longitude: at.longitude, source, updatedAt: new Date() };
  await db
    .insert(cityCoordinates)
    .values(values)
    .onConflictDoUpdate({
      target: cityCoordinates.cityKey,
      set: { city: values.city, latitude: values.latitude, longitude: values.longitude, source, updatedAt: sql`now()` },
      where: source === "weather" ? sql`${cityCoordinates.source} <> 'operator'` : undefined,
    });
  const [row] = await db.select().from(cityCoordinates).where(eq(cityCoordinates.cityKey, values.cityKey));
  return row;
}

export async function findCityCoordinates(db: Db, city: string): Promise<CityCoordinatesRow | undefined> {
  const [row] = await db
    .select()
    .from(cityCoordinates)
    .where(eq(cityCoordinates.cityKey, cityKey(city)));
  return row;
}
