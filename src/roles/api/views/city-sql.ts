/** SQL pieces that match cities the way src/domain/weather-policy.ts `cityKey` does: case and spaces ignored. */
import { type AnyColumn, type SQL, sql } from "drizzle-orm";

export function cityKeySql(column: AnyColumn | SQL): SQL {
  return sql`lower(regexp_replace(trim(${column}), '\\s+', ' ', 'g'))`;
}

/** Whether the city in `column` is under a frost alert. */
export function inFrostSql(column: AnyColumn | SQL): SQL {
  return sql`exists (select 1 from city_weather w where w.alert and ${cityKeySql(sql`w.city`)} = ${cityKeySql(column)})`;
}
