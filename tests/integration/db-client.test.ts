/**
 * What every evnet PostgreSQL connection is set up with: its role's name in pg_stat_activity
 * and a random_page_cost for data in memory (batch lookups by key), which DATABASE_URL can
 * override.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.ts";
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
