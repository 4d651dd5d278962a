import { doublePrecision, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Who placed a city: its weather provider, or an operator (whose place the provider never replaces). */
export type CoordinatesSource = "weather" | "operator";

/**
 * Where a city is, for the map: reported by the weather office (its provider knows) or set by an
 * operator. An operator's coordinates are never replaced by the provider's.
 */
export const cityCoordinates = pgTable("city_coordinates", {
  /** The city as matched everywhere (src/db/city-key.ts `cityKey`): lower case, single spaces. */
  cityKey: text("city_key").primaryKey(),
  /** The city as last spelled by whoever set it. */
  city: text("city").notNull(),
  latitude: doublePrecision("latitude").notNull(),
  longitude: doublePrecision("longitude").notNull(),
  source: text("source").$type<CoordinatesSource>().notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type CityCoordinatesRow = typeof cityCoordinates.$inferSelect;
