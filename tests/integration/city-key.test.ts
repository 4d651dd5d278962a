/**
 * The city-matching rule, in TypeScript and as PostgreSQL computes it: the same key for every
 * spelling, on the real server (a C-locale database) and on the embedded one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { cityKey, cityKeySql, sameCitySql, tidyCity } from "../../src/db/city-key.ts";
import { type Database, openDatabase, rowsOf } from "../../src/db/client.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

const spellings = [
  "Madrid",
  "  madrid ",
  "MADRID",
  "San  Sebastián",
  "SAN SEBASTIÁN",
  "MÁLAGA",
  "Ávila",
  "ÉCIJA",
  "A\u00a0Coruña",
  "\u3000Sevilla\u2003",
  "Köln",
  "ΑΘΗΝΑΣ",
  "İSTANBUL",
  "Straße",
  "ŁÓDŹ",
  "Zürich\ufeff",
];

async function keysIn(database: Database): Promise<string[]> {
  const values = sql.join(
    spellings.map((s, i) => sql`(${i}::int, ${s}::text)`),
    sql`, `,
  );
  const rows = rowsOf<{ key: string }>(await database.db.execute(sql`select ${cityKeySql(sql`city`)} as key from (values ${values}) as t(n, city) order by n`));
  return rows.map((r) => r.key);
}

describe("city names", () => {
  test("match regardless of case and spacing", () => {
    expect(cityKey("Madrid")).toBe(cityKey("  madrid "));
    expect(cityKey("San  Sebastián")).toBe(cityKey("san sebastián"));
    expect(cityKey("MÁLAGA")).toBe(cityKey("Málaga"));
    expect(cityKey(" OSLO ")).toBe("oslo");
  });

  test("do not match different cities", () => {
    expect(cityKey("Madrid")).not.toBe(cityKey("Málaga"));
  });

  test("are tidied for display without losing their case", () => {
    expect(tidyCity("  San   Sebastián ")).toBe("San Sebastián");
    expect(tidyCity("A\u00a0Coruña\u3000")).toBe("A Coruña");
  });
});

describe("the city key in SQL", () => {
  let testDb: TestDatabase;
  let server: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    server = await openDatabase({ url: testDb.url, maxConnections: 1 });
  });
  afterAll(async () => {
    await server?.close();
    await testDb?.drop();
  });

  test("is the TypeScript key on the PostgreSQL server, whatever its locale", async () => {
    expect(await keysIn(server)).toEqual(spellings.map(cityKey));
  });

  test("is the TypeScript key on the embedded database", async () => {
    const embedded = await openDatabase({ inMemory: true });
    try {
      expect(await keysIn(embedded)).toEqual(spellings.map(cityKey));
    } finally {
      await embedded.close();
    }
  });

  test("matches a column against a spelling as the TypeScript rule does", async () => {
    const [row] = rowsOf<{ same: boolean; other: boolean }>(
      await server.db.execute(sql`select ${sameCitySql(sql`'  SAN  SEBASTIÁN '`, "san sebastián")} as same, ${sameCitySql(sql`'Madrid'`, "Málaga")} as other`),
    );
    expect(row).toEqual({ same: true, other: false });
  });
});
