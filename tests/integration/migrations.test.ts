/**
 * The embedded migrations build the same schema on real PostgreSQL and on embedded PGlite, apply
 * once, and let several roles start together against one database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Database, type Db, openDatabase, rowsOf } from "../../src/db/client.ts";
import { embeddedMigrations, migrate } from "../../src/db/migrate.ts";
import { drivers, outbox } from "../../src/db/schema/index.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

const allTags = embeddedMigrations().map((m) => m.tag);

async function tables(db: Db): Promise<string[]> {
  const result: unknown = await db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
  return rowsOf<{ table_name: string }>(result).map((r) => r.table_name);
}

async function appliedCount(db: Db): Promise<number> {
  const result: unknown = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return Number(rowsOf<{ n: number }>(result)[0]?.n);
}

describe("migrations on a fresh PostgreSQL database", () => {
  let testDb: TestDatabase;
  const opened: Database[] = [];
  const open = async () => {
    const database = await openDatabase({ url: testDb.url, maxConnections: 2 });
    opened.push(database);
    return database;
  };
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    await testDb.drop();
  });

  test("two roles migrating at once both succeed and every migration is applied exactly once", async () => {
    const [a, b] = [await open(), await open()];
    const [appliedByA, appliedByB] = await Promise.all([migrate(a.db), migrate(b.db)]);
    expect([...appliedByA, ...appliedByB].sort()).toEqual([...allTags].sort());
    expect(await appliedCount(a.db)).toBe(allTags.length);
    expect(await tables(a.db)).toEqual(expect.arrayContaining(["audit_events", "charging_points", "drivers"]));
  });

  test("migrating again applies nothing", async () => {
    const database = await open();
    expect(await migrate(database.db)).toEqual([]);
    expect(await appliedCount(database.db)).toBe(allTags.length);
  });
});

describe("migrations on embedded PGlite", () => {
  test("build the same tables in memory as on PostgreSQL, and a second run applies nothing", async () => {
    const memory = await openDatabase({ inMemory: true });
    const testDb = await createTestDatabase();
    const postgres = await openDatabase({ url: testDb.url, maxConnections: 1 });
    try {
      expect(await migrate(memory.db)).toEqual(allTags);
      expect(await migrate(memory.db)).toEqual([]);
      await migrate(postgres.db);
      expect(await tables(memory.db)).toEqual(await tables(postgres.db));
    } finally {
      await memory.close();
      await postgres.close();
      await testDb.drop();
    }
  }, 30_000);

  test("keep a data folder's schema and rows when it is opened again", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "evnet-pglite-"));
    try {
      const first = await openDatabase({ dataDir });
      expect(first.location).toBe(join(dataDir, "pgdata"));
      expect(await migrate(first.db)).toEqual(allTags);
      await first.db.insert(drivers).values({ driverId: "DRV_PERSISTED" });
      await first.close();

      const again = await openDatabase({ dataDir });
      try {
        expect(await migrate(again.db)).toEqual([]);
        const rows = await again.db.select().from(drivers);
        expect(rows.map((r) => r.driverId)).toEqual(["DRV_PERSISTED"]);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("the outbox's change to bytes (0015)", () => {
  // A message sealed before the binary envelope, waiting in the outbox when the network is
  // upgraded: after the migration its bytes are the text's, as the bus would have carried it.
  const waiting = '{"v":2,"sub":"driver:D1","kid":"dk_1","sender":"central:c1","seq":1,"ts":1,"nonce":"AAAAAAAAAAAAAAAA","ct":"é"}';
  const before = embeddedMigrations().filter((m) => m.tag < "0015");

  for (const where of ["PostgreSQL", "embedded PGlite"] as const)
    test(`keeps what waits in it, as bytes, on ${where}`, async () => {
      const testDb = where === "PostgreSQL" ? await createTestDatabase() : undefined;
      const database = testDb ? await openDatabase({ url: testDb.url, maxConnections: 1 }) : await openDatabase({ inMemory: true });
      try {
        expect(await migrate(database.db, before)).toHaveLength(before.length);
        await database.db.execute(sql`insert into outbox (topic, key, value) values ('t.driver.updates', 'D1', ${waiting})`);
        expect(await migrate(database.db)).toEqual(allTags.filter((t) => t >= "0015"));
        const [row] = await database.db.select().from(outbox);
        expect(Buffer.from(row!.value).toString("utf8")).toBe(waiting);
        expect(row!.value).toBeInstanceOf(Uint8Array);
      } finally {
        await database.close();
        await testDb?.drop();
      }
    }, 30_000);
});
