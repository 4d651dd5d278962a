/**
 * Opens the database every role shares: PostgreSQL through postgres.js when DATABASE_URL is
 * set, otherwise an embedded PGlite database in a data folder. Repositories take the returned
 * `db` and do not care which it is.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { Sql } from "postgres";
import { EXIT, KnownError } from "../lib/errors.ts";
import { hasEmbeddedDatabase, lockDataFolder, PGDATA } from "./data-folder.ts";
import * as schema from "./schema/index.ts";
import { onceReachable } from "./unavailable.ts";
import { postgresTarget } from "./url.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: "postgres" | "pglite";
  /** Where it lives, for logs: a URL without password, or the data folder. */
  location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent, PGlite in `dataDir`. */
  url?: string;
  dataDir?: string;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  /** postgres.js pool size. */
  maxConnections?: number;
  /** Shown in pg_stat_activity (PostgreSQL only): which role holds a connection. */
  applicationName?: string;
  /** Refuse to create an embedded database that is not there (reads and admin operations). */
  mustExist?: boolean;
  /**
   * PostgreSQL: connect at once, so a wrong URL or a database that is down is reported when a
   * role starts, plainly (DatabaseUnavailable). Otherwise the first query connects.
   */
  connectNow?: boolean;
  /**
   * With connectNow: while PostgreSQL cannot be reached (refused, restarting, shutting down),
   * try again every second for up to this many seconds before giving up, calling `onWait` with
   * what is wrong first and then every 30 s. A service started with (or just before) its
   * database comes up within a moment of it; a wrong password or database name fails at once.
   */
  waitS?: number;
  onWait?: (problem: DatabaseUnavailable) => void;
  /**
   * PostgreSQL: prepare statements, each text once per connection (default true; see
   * `preparing`). Off behind a pooler that hands a session's statements to other connections
   * (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
}

/** PostgreSQL cannot be reached, or refuses the connection: what happened and how to fix it. */
export class DatabaseUnavailable extends KnownError {
  override name = "DatabaseUnavailable";
  constructor(location: string, err: unknown) {
    const e = err as { code?: string; message?: string };
    const message = e.message ?? String(err);
    const [why, hint] =
      e.code === "ECONNREFUSED"
        ? ["connection refused", "is PostgreSQL running there? Check DATABASE_URL (--database-url)"]
        : e.code === "ENOENT"
          ? [
              "no socket there",
              "is PostgreSQL running on this machine, with the URL's host folder among its unix_socket_directories and the URL's port its own?",
            ]
          : e.code === "ENOTFOUND" || e.code === "EAI_AGAIN"
            ? ["no such host", "check the host name in DATABASE_URL (--database-url)"]
            : e.code === "CONNECT_TIMEOUT"
              ? ["no answer within 10 s", "is the host up, and does a firewall let port 5432 (or the URL's port) through?"]
              : e.code === "28P01" || e.code === "28000"
                ? [message, "check the user and password in DATABASE_URL"]
                : e.code === "3D000"
                  ? [message, "create it (createdb, or compose.yaml's database) or fix its name in DATABASE_URL"]
                  : [message, "check DATABASE_URL (--database-url)"];
    super(`cannot use PostgreSQL at ${location}: ${why}`, { hint, cause: err, exitCode: EXIT.unavailable });
  }
}

/** There is no embedded database where one was expected (a wrong folder, most likely). */
export class NoDatabaseHere extends KnownError {
  override name = "NoDatabaseHere";
  constructor(dataDir: string) {
    super(`there is no embedded database in ${dataDir} (no ${join(dataDir, PGDATA)})`, {
      hint: "run it where the network keeps its data (the folder 'evnet up' runs in, or its --data-dir), or give DATABASE_URL",
      exitCode: EXIT.noInput,
    });
  }
}

/**
 * Session settings of every PostgreSQL connection (a DATABASE_URL parameter of the same name
 * overrides them). evnet's hot statements look rows up by primary key from a batch passed as
 * JSON, whose size the planner cannot know (it assumes 100 rows): with the default
 * random_page_cost (4, tuned for spinning disks) it then scans and hashes the whole table
 * (10,000 CPs) for every batch, even for a handful of rows. 1.1, the usual value for data in
 * memory or on SSD, makes it use the keys (measured in docs/benchmarks.md).
 */
export const POSTGRES_SESSION_SETTINGS = { random_page_cost: "1.1" } as const;

/**
 * Seconds postgres.js waits before connecting again after a failed connection (its `backoff`).
 * Its default grows to 20 s, so after PostgreSQL came back the API and Central stayed stalled
 * for up to that long; connection attempts to a database that is down are cheap (refused at
 * once), so a try every second at most gets them back within a second or two.
 */
export function reconnectDelayS(failures: number): number {
  return Math.min(1, 0.1 * 2 ** Math.max(0, failures - 1));
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const { default: postgres } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const target = postgresTarget(options.url);
    const client = postgres(target.url, {
      ...(target.host ? { host: target.host } : {}),
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: options.applicationName ?? "evnet", ...POSTGRES_SESSION_SETTINGS },
      connect_timeout: 10,
      backoff: reconnectDelayS,
    });
    const location = redactUrl(options.url);
    if (options.connectNow)
      await onceReachable(
        () => client`select 1`,
        (err) => options.onWait?.(new DatabaseUnavailable(location, err)),
        (options.waitS ?? 0) * 1000,
      ).catch(async (err: unknown) => {
        await client.end({ timeout: 1 }).catch(() => {});
        throw new DatabaseUnavailable(location, err);
      });
    const db = drizzle(options.preparedStatements === false ? client : preparing(client), { schema }) as unknown as Db;
    return {
      db,
      kind: "postgres",
      location,
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { pgliteAssets } = await import("./pglite-assets.ts");
  const dataDir = options.inMemory ? undefined : (options.dataDir ?? ".evnet");
  if (dataDir && options.mustExist && !hasEmbeddedDatabase(dataDir)) throw new NoDatabaseHere(dataDir);
  const unlock = dataDir ? lockDataFolder(dataDir) : () => {};
  const dbDir = dataDir ? join(dataDir, PGDATA) : undefined;
  let client: Awaited<ReturnType<typeof PGlite.create>>;
  try {
    client = await PGlite.create({ ...(dbDir ? { dataDir: dbDir } : {}), ...(await pgliteAssets()) });
  } catch (err) {
    unlock();
    throw err;
  }
  const db = joinTransactionInProgress(drizzle(client, { schema }) as unknown as Db);
  return {
    db,
    kind: "pglite",
    location: dbDir ?? "memory",
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}

/**
 * PGlite has one connection: while a transaction holds it, a query made through the root handle
 * (an audit write, a key lookup inside a unit of work) would wait for that transaction forever.
 * This handle makes such queries join the transaction in progress in the same async context, as
 * if they had been given the transaction's handle; other contexts queue as before. (On
 * PostgreSQL they would run on another pooled connection instead.)
 */
export function joinTransactionInProgress(root: Db): Db {
  const current = new AsyncLocalStorage<Db>();
  return new Proxy(root, {
    get(target, prop, receiver) {
      const tx = current.getStore();
      if (prop === "transaction") {
        return (fn: (tx: Db) => Promise<unknown>, config?: unknown) =>
          tx
            ? (tx.transaction as (f: typeof fn, c?: unknown) => Promise<unknown>)(fn, config)
            : (target.transaction as (f: typeof fn, c?: unknown) => Promise<unknown>)((t: Db) => current.run(t, () => fn(t)), config);
      }
      const source = tx ?? target;
      const value = Reflect.get(source, prop, tx ? source : receiver);
      return typeof value === "function" ? value.bind(source) : value;
    },
  });
}

/** Most distinct statement texts one pool prepares (see `preparing`). */
const MAX_PREPARED_TEXTS = 500;

/**
 * The postgres.js client as drizzle is given it, preparing the statements drizzle sends. drizzle
 * asks for a prepared statement only for a query it was given a name for; any other statement
 * with parameters postgres.js first has PostgreSQL describe, then runs: two round trips, and a
 * parse and a plan on every run. Prepared, a text is parsed once per connection, its plan kept,
 * and each run is one round trip: a transaction of Central's offsets and readings took
 * PostgreSQL a third of the CPU and half the time (docs/benchmarks.md, twentieth round).
 *
 * Only statements with parameters are prepared (a text of several commands, as a migration may
 * be, cannot be, and has none), and at most `limit` distinct texts besides those drizzle names: a
 * text built with one parameter per item (an `in (...)` list) is a new one for each length, and
 * past the limit such texts run unprepared, as before, rather than fill every connection with
 * statements.
 */
export function preparing(client: Sql, limit = MAX_PREPARED_TEXTS): Sql {
  const texts = new Set<string>();
  const prepare = (text: string, params: unknown): boolean => {
    if (!Array.isArray(params) || params.length === 0) return false;
    if (texts.size < limit) texts.add(text);
    return texts.has(text);
  };
  // Transactions and savepoints hand drizzle a client of their own: wrapped the same way.
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof value !== "function") return value;
        // A statement drizzle prepares by name (src/db/statements.ts) stays prepared.
        if (prop === "unsafe")
          return (text: string, params?: unknown[], options?: Record<string, unknown>) =>
            value.call(t, text, params, { ...options, prepare: options?.prepare === true || prepare(text, params) });
        if (prop === "begin" || prop === "savepoint")
          return (...args: unknown[]) => {
            const body = args.pop() as (inner: object) => unknown;
            return value.call(t, ...args, (inner: object) => body(wrap(inner)));
          };
        return value;
      },
    });
  return wrap(client);
}

/** Rows of a raw `db.execute(sql...)`: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * Rows passed to a statement as ONE JSON text parameter, to be read with
 * `json_to_recordset(${jsonRows(rows)}::json) as v(col type, ...)`. The statement's text does not
 * change with the number of rows (prepared once), and serialising one JSON string costs the
 * client about half of what one array parameter per column does (measured in docs/benchmarks.md).
 */
export function jsonRows(rows: object[]): SQL {
  return sql`${sql.param(JSON.stringify(rows))}::text`;
}

/**
 * Keys as ONE array parameter: `where t.id = any(${keyList(ids)})`. A statement that joins a
 * table to `jsonRows` names the rows' keys this way too. PostgreSQL cannot tell how many rows a
 * JSON parameter holds (it assumes a hundred), so on a table of up to a few thousand rows it
 * joined them by reading the whole table, on every statement; given the keys, it looks them up
 * in the table's index, whatever its size.
 */
export function keyList(keys: readonly (string | number)[], type: "text" | "int" | "bigint" = "text"): SQL {
  if (type === "bigint") return sql`${sql.param(keys)}::bigint[]`;
  return type === "int" ? sql`${sql.param(keys)}::int[]` : sql`${sql.param(keys)}::text[]`;
}

/**
 * Rows per statement for an insert that gives each row parameters of its own. PostgreSQL takes
 * at most 65,535 parameters in one statement, and a batch of Central's can hold tens of
 * thousands of messages, each with its audit entry, its outbox message or its dead letter: such
 * an insert goes in parts of this many rows (a dozen columns a row stays far below the limit).
 * A list of keys goes as one array parameter instead (`keyList`), whatever its length.
 */
export const ROWS_PER_INSERT = 1000;

/** `rows` in consecutive parts of at most `size` (the array itself when it is short enough). */
export function partsOf<T>(rows: T[], size = ROWS_PER_INSERT): T[][] {
  if (rows.length <= size) return [rows];
  const parts: T[][] = [];
  for (let at = 0; at < rows.length; at += size) parts.push(rows.slice(at, at + size));
  return parts;
}
