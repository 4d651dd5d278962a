/** DATABASE_URL as postgres.js takes it. */
import { printable } from "../domain/ids.ts";
import { EXIT, KnownError } from "../lib/errors.ts";

/**
 * What postgres.js is given for a DATABASE_URL. libpq's `host` parameter naming a folder
 * (`postgres://evnet:…@localhost:5432/evnet?host=/var/run/postgresql`) means the server's
 * Unix-domain socket in that folder, `.s.PGSQL.<the URL's port>`: a database on the same
 * machine reached without TCP, whose round trips cost both sides less (docs/benchmarks.md).
 * postgres.js would pass the parameter on to the server as a setting, which refuses it; it is
 * taken out of the URL and given as postgres.js's host. Any other `host` parameter is refused
 * here, plainly: a server's name belongs in the URL itself.
 */
export function postgresTarget(url: string): { url: string; host?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url }; // postgres.js says what is wrong with it
  }
  const host = u.searchParams.get("host");
  if (host === null) return { url };
  if (!host.startsWith("/"))
    throw new KnownError(`DATABASE_URL's host parameter must be a folder holding PostgreSQL's socket (got "${printable(host, 100)}")`, {
      hint: "put a server's name in the URL itself (postgres://user:password@host:5432/database), or give ?host=/var/run/postgresql for a socket on this machine",
      exitCode: EXIT.usage,
    });
  u.searchParams.delete("host");
  return { url: u.toString(), host };
}
