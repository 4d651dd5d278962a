import { boolean, doublePrecision, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Locations the weather office watches besides the CPs' own (added by an operator). */
export const weatherLocations = pgTable("weather_locations", {
  city: text("city").primaryKey(),
  addedBy: text("added_by").notNull().default("operator"),
  addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The last temperature reported for each city and whether a frost alert is in force. */
export const cityWeather = pgTable("city_weather", {
  city: text("city").primaryKey(),
  temperatureC: doublePrecision("temperature_c").notNull(),
  alert: boolean("alert").notNull().default(false),
  alertSince: timestamp("alert_since", { withTimezone: true }),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type WeatherLocationRow = typeof weatherLocations.$inferSelect;
export type CityWeatherRow = typeof cityWeather.$inferSelect;
