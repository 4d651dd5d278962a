/** The bench's own PostgreSQL connections, to a DATABASE_URL as Central reads it (a socket folder too: postgresTarget). */
import postgres from "postgres";
import { postgresTarget } from "../src/db/url.ts";

export function benchSql(url: string, max = 1): postgres.Sql {
  const target = postgresTarget(url);
  return postgres(target.url, { ...(target.host ? { host: target.host } : {}), max, onnotice: () => {} });
}
