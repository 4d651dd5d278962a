/**
 * How cities are matched, in TypeScript and in SQL, side by side: as people write them, so
 * case and surrounding or repeated spaces do not matter ("Madrid", " madrid ", "MADRID" are one
 * city). Central matches a CP's location to an alert's city with it, the API shows each CP its
 * city's temperature with it, the weather office watches each city once with it.
 *
 * The two must give the same answer whatever the database's locale, so neither leans on one:
 * the spaces are one class spelt out for both regular-expression dialects (JavaScript's `\s`),
 * and SQL lowers case with the ICU root collation, which is Unicode's default case mapping like
 * JavaScript's `toLowerCase` (a C-locale database's plain `lower` leaves "Á" as it is).
 * tests/integration/city-key.test.ts checks that they agree on the real PostgreSQL.
 */
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { isCleanText } from "../domain/ids.ts";

/** Every character that counts as a space in a city name, in syntax both JavaScript and PostgreSQL read alike. */
const SPACE = "[\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]";
const EDGE_SPACES = `^${SPACE}+|${SPACE}+$`;
const INNER_SPACES = `${SPACE}+`;

const edgeSpaces = new RegExp(EDGE_SPACES, "g");
const innerSpaces = new RegExp(INNER_SPACES, "g");

/** The city as it should be shown and stored: trimmed, inner spaces collapsed, case kept. */
export function tidyCity(city: string): string {
  return city.replace(edgeSpaces, "").replace(innerSpaces, " ");
}

/** The longest city name anything stores or sends. */
export const CITY_MAX = 100;

/** Whether a name can be a city once tidied: 1-100 characters, no control character. */
export function isCity(name: string): boolean {
  const city = tidyCity(name);
  return city.length > 0 && city.length <= CITY_MAX && isCleanText(city);
}

/** What two spellings of one city have in common. */
export function cityKey(city: string): string {
  return tidyCity(city).toLowerCase();
}

/** `cityKey` of a column or expression, computed by PostgreSQL. */
export function cityKeySql(city: SQLWrapper): SQL {
  const tidied = sql`regexp_replace(regexp_replace(${city}, ${sql.raw(`'${EDGE_SPACES}'`)}, '', 'g'), ${sql.raw(`'${INNER_SPACES}'`)}, ' ', 'g')`;
  return sql`lower(${tidied} collate "und-x-icu")`;
}

/** Whether a column or expression names the same city as `city`. */
export function sameCitySql(column: SQLWrapper, city: string): SQL {
  return sql`${cityKeySql(column)} = ${cityKey(city)}`;
}
