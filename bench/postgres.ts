/** The bench's own PostgreSQL connections, to a DATABASE_URL as Central reads it (a socket folder too: postgresTarget). */
import postgres from "postgres";
import { postgresTarget } from "../src/db/url.ts";

export function benchSql(url: string, max = 1): postgres.Sql {
  const target = postgresTarget(url);
  return postgres(target.url, { ...(target.host ? { host: target.host } : {}), max, onnotice: () => {} });
}

/** The URL of database `name` on the server of `serverUrl` (its user, password and parameters kept). */
export function databaseOnServer(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
