/**
 * Statements whose SQL is built once. drizzle builds a query's text from its builder every time
 * the query runs: 70–100 µs of CPU for a select or an insert of a dozen columns (measured apart,
 * docs/benchmarks.md, seventeenth round), against a few µs to run it once built. A charging
 * session's start and end run some fifty statements, so at 10,000 chargers the building alone
 * took about a tenth of Central's thread.
 *
 * `statement(name, build)` prepares the builder once, with `sql.placeholder("…")` for what
 * changes from one run to the next, and runs it on whichever handle it is given: the database
 * or a transaction (its connection). Rows come back mapped exactly as the builder maps them.
 * With PostgreSQL the statement is also prepared on each connection (named), so the server
 * parses and plans it once too.
 *
 * drizzle has no public way to run a prepared query on another connection: a prepared query
 * keeps the client of the handle that prepared it (`client`, for both drivers used here, as the
 * handle's session does). That is the one thing relied on; tests/integration/db-statements.test.ts
 * runs statements on PostgreSQL and PGlite, in and out of transactions, and fails if it changes.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.ts";

interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

interface Preparable<R> {
  prepare(name: string): Prepared<R>;
}

/** The session a handle runs its queries through: its driver's (the class), and its client (a pool, a connection, a transaction's). */
function sessionOf(db: Db): { constructor: unknown; client: unknown } {
  const session = (db as unknown as { session?: { constructor: unknown; client?: unknown } }).session;
  if (session?.client === undefined) throw new Error("statement: this handle has no client to run a prepared statement on");
  return session as { constructor: unknown; client: unknown };
}

/**
 * A statement built once. `values` fill the builder's placeholders; the result is what the
 * builder's own run would give (rows for a select or a `returning`, the driver's result else).
 */
export function statement<R, V extends Record<string, unknown> = Record<string, unknown>>(
  name: string,
  build: (db: Db) => Preparable<R>,
): (db: Db, values?: V) => Promise<R> {
  // One per driver: a process may hold a PostgreSQL and a PGlite database (a test, a copy).
  const byDriver = new Map<unknown, Prepared<R>>();
  return (db, values) => {
    const session = sessionOf(db);
    let prepared = byDriver.get(session.constructor);
    if (!prepared) byDriver.set(session.constructor, (prepared = build(db).prepare(name)));
    const run = Object.create(prepared) as Prepared<R> & { client: unknown };
    run.client = session.client;
    return run.execute(values);
  };
}

/**
 * A placeholder where a builder wants a value of a column's type (an update's `set`), filled
 * from `values` when the statement runs. The value goes to the driver as it is given (no
 * column mapping): give a time as an ISO string.
 */
export function filled(name: string): SQL {
  return sql`${sql.placeholder(name)}`;
}
