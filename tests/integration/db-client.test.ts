/**
 * What every evnet PostgreSQL connection is set up with: its role's name in pg_stat_activity,
 * a random_page_cost for data in memory (batch lookups by key), which DATABASE_URL can
 * override, and its statements prepared once per connection (DATABASE_PREPARED_STATEMENTS).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { integer, pgTable } from "drizzle-orm/pg-core";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { type Database, DatabaseUnavailable, type Db, openDatabase, preparing, rowsOf } from "../../src/db/client.ts";
import { isStoreUnavailable } from "../../src/db/unavailable.ts";
import { postgresTarget } from "../../src/db/url.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb?.drop());

async function settings(database: Database) {
  const [row] = rowsOf<{ rpc: string; app: string }>(
    await database.db.execute(sql`select current_setting('random_page_cost') as rpc, current_setting('application_name') as app`),
  );
  return row;
}

describe("an evnet PostgreSQL connection", () => {
  test("names its role and plans for data in memory", async () => {
    const database = await openDatabase({ url: testDb.url, maxConnections: 1, applicationName: "evnet central" });
    try {
      expect(await settings(database)).toEqual({ rpc: "1.1", app: "evnet central" });
    } finally {
      await database.close();
    }
  });

  test("takes random_page_cost from DATABASE_URL when the operator sets it there", async () => {
    const url = new URL(testDb.url);
    url.searchParams.set("random_page_cost", "4");
    const database = await openDatabase({ url: url.toString(), maxConnections: 1 });
    try {
      expect(await settings(database)).toEqual({ rpc: "4", app: "evnet" });
    } finally {
      await database.close();
    }
  });
});

describe("a DATABASE_URL naming a socket folder (libpq's ?host=/folder)", () => {
  const socketDir = () => {
    const dir = process.env.TEST_DATABASE_SOCKET_DIR;
    if (!dir) throw new Error("TEST_DATABASE_SOCKET_DIR is not set: run the tests with 'npm test' (scripts/services.sh prints it)");
    return dir;
  };
  const withHost = (url: string, host: string) => {
    const u = new URL(url);
    u.searchParams.set("host", host);
    return u.toString();
  };
  const clientAddress = async (database: Database) =>
    rowsOf<{ addr: string | null }>(await database.db.execute(sql`select host(inet_client_addr()) as addr`))[0]!.addr;

  test("reaches the same server through its socket, not TCP, with the URL's other settings", async () => {
    const url = new URL(withHost(testDb.url, socketDir()));
    url.searchParams.set("random_page_cost", "3");
    const viaSocket = await openDatabase({ url: url.toString(), maxConnections: 1, applicationName: "evnet socket", connectNow: true });
    const viaTcp = await openDatabase({ url: testDb.url, maxConnections: 1 });
    try {
      expect(await clientAddress(viaSocket)).toBeNull(); // a Unix-domain socket has no address
      expect(await clientAddress(viaTcp)).toBe("127.0.0.1");
      expect(await settings(viaSocket)).toEqual({ rpc: "3", app: "evnet socket" });
      // the same database: what one writes, the other reads
      await viaSocket.db.execute(sql.raw("create table through_socket (id int); insert into through_socket values (42)"));
      expect(rowsOf(await viaTcp.db.execute(sql`select id from through_socket`))).toEqual([{ id: 42 }]);
    } finally {
      await viaSocket.close();
      await viaTcp.close();
    }
  });

  test("a folder without the server's socket is reported plainly, and counts as the database being away", async () => {
    const empty = mkdtempSync(join(tmpdir(), "evnet-nosocket-"));
    try {
      const failure = await openDatabase({ url: withHost(testDb.url, empty), maxConnections: 1, connectNow: true }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(DatabaseUnavailable);
      expect((failure as Error).message).toContain("no socket there");
      expect((failure as DatabaseUnavailable).hint).toContain("unix_socket_directories");
      expect(isStoreUnavailable((failure as Error).cause)).toBe(true);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a host parameter that is not a folder is refused before anything is sent", () => {
    for (const host of ["db.example.org", "10.0.0.5", ""]) {
      expect(() => postgresTarget(withHost(testDb.url, host))).toThrow("must be a folder");
    }
    expect(postgresTarget(withHost(testDb.url, "/run/postgresql"))).toEqual({ url: testDb.url, host: "/run/postgresql" });
    expect(postgresTarget(testDb.url)).toEqual({ url: testDb.url });
  });
});

/**
 * The statements prepared on the connection that runs this (pg_prepared_statements is per
 * connection), but for the one postgres.js prepares itself to learn the array types.
 */
async function preparedHere(db: Db): Promise<string[]> {
  const rows = rowsOf<{ statement: string }>(await db.execute(sql`select statement from pg_prepared_statements where not from_sql order by prepare_time`));
  return rows.map((r) => r.statement).filter((t) => !t.includes("pg_catalog.pg_type"));
}

describe("statements on PostgreSQL", () => {
  const lookup = (db: Db, n: number) => db.execute(sql`select ${n}::int + 1 as next, current_setting('application_name') as app`);
  const lookupText = "select $1::int + 1 as next, current_setting('application_name') as app";

  test("are prepared once per connection and answer as unprepared ones do, in transactions and savepoints too", async () => {
    const prepared = await openDatabase({ url: testDb.url, maxConnections: 1 });
    const unprepared = await openDatabase({ url: testDb.url, maxConnections: 1, preparedStatements: false });
    try {
      for (const n of [1, 2, 3]) expect(rowsOf(await lookup(prepared.db, n))).toEqual(rowsOf(await lookup(unprepared.db, n)));
      expect((await preparedHere(prepared.db)).filter((t) => t === lookupText)).toHaveLength(1);
      expect(await preparedHere(unprepared.db)).toEqual([]);

      const inTransaction = "select $1::text || '!' as said";
      await prepared.db.transaction(async (tx) => {
        expect(rowsOf(await tx.execute(sql`select ${"a"}::text || '!' as said`))).toEqual([{ said: "a!" }]);
        await tx.transaction(async (inner) => {
          expect(rowsOf(await inner.execute(sql`select ${"b"}::text || '?' as said`))).toEqual([{ said: "b?" }]);
        });
      });
      const here = await preparedHere(prepared.db);
      expect(here).toContain(inTransaction);
      expect(here).toContain("select $1::text || '?' as said");
      // Without parameters nothing is prepared, and a text of several commands still runs.
      await prepared.db.execute(sql.raw("create table several (id int); insert into several values (1)"));
      expect(rowsOf(await prepared.db.execute(sql`select count(*)::int as n from several`))).toEqual([{ n: 1 }]);
      expect((await preparedHere(prepared.db)).some((t) => t.includes("several"))).toBe(false);
    } finally {
      await prepared.close();
      await unprepared.close();
    }
  });

  test("a prepared statement still answers after its table changes shape", async () => {
    const database = await openDatabase({ url: testDb.url, maxConnections: 1 });
    try {
      await database.db.execute(sql.raw("create table reshaped (id int primary key); insert into reshaped values (7)"));
      const read = async () => rowsOf(await database.db.execute(sql`select * from reshaped where id = ${7}`));
      expect(await read()).toEqual([{ id: 7 }]);
      expect(await read()).toEqual([{ id: 7 }]);
      await database.db.execute(sql.raw("alter table reshaped add column note text default 'new'"));
      expect(await read()).toEqual([{ id: 7, note: "new" }]);
    } finally {
      await database.close();
    }
  });

  test("past the limit of distinct texts, new texts run unprepared", async () => {
    const client = postgres(testDb.url, { max: 1, onnotice: () => {} });
    const db = drizzle(preparing(client, 2)) as unknown as Db;
    try {
      const texts = [1, 2, 3, 4].map((k) => `select $1::int * ${k} as v`);
      for (const k of [1, 2, 3, 4]) expect(rowsOf(await db.execute(sql`select ${10}::int * ${sql.raw(String(k))} as v`))).toEqual([{ v: 10 * k }]);
      expect(await preparedHere(db)).toEqual(texts.slice(0, 2));
      // The first ones stay prepared, and are used again.
      expect(rowsOf(await db.execute(sql`select ${5}::int * ${sql.raw("1")} as v`))).toEqual([{ v: 5 }]);
      expect(await preparedHere(db)).toEqual(texts.slice(0, 2));
      // A statement drizzle prepares by name (src/db/statements.ts) is prepared past the limit too.
      await db.execute(sql.raw("create table named (id int); insert into named values (3)"));
      const named = pgTable("named", { id: integer("id") });
      const byId = db
        .select()
        .from(named)
        .where(eq(named.id, sql.placeholder("id")))
        .prepare("named_by_id");
      expect(await byId.execute({ id: 3 })).toEqual([{ id: 3 }]);
      expect(await preparedHere(db)).toEqual([...texts.slice(0, 2), 'select "id" from "named" where "named"."id" = $1']);
    } finally {
      await client.end();
    }
  });
});
