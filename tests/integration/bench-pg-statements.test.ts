/**
 * The bench's table of where PostgreSQL's time goes: the test services' server counts every
 * statement (scripts/services.sh loads pg_stat_statements), and the bench tells a window's
 * statements of its own database apart from the rest.
 */
import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { dropDatabase } from "../../bench/drop-database.ts";
import { readStatements, readStatementTexts, type StatementSnapshot, statementsBetween } from "../../bench/pg-statements.ts";
import { databaseOnServer } from "../../bench/postgres.ts";
import { requireEnv, uniqueName } from "../support/services.ts";

const adminUrl = requireEnv("TEST_DATABASE_URL");

const urlOf = (name: string) => databaseOnServer(adminUrl, name);

describe("PostgreSQL's statements in a bench step", () => {
  test("a window counts the statements run in the step's database, and only those", async () => {
    const [step, other] = [uniqueName("evnet_stmts"), uniqueName("evnet_stmts")];
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${step}`);
    await admin.unsafe(`create database ${other}`);
    await admin.end();
    const inStep = postgres(urlOf(step), { max: 1, onnotice: () => {} });
    const elsewhere = postgres(urlOf(other), { max: 1, onnotice: () => {} });
    try {
      for (const db of [inStep, elsewhere]) {
        await db`create table t (id int primary key, v int)`;
        await db`insert into t select i, 0 from generate_series(1, 100) i`;
      }
      // Counted before the window: it must not count in it.
      for (let i = 0; i < 5; i++) await inStep`update t set v = v + 1 where id <= ${i}`;
      const before = await readStatements(adminUrl, step);
      expect(before).toBeDefined();

      for (let i = 1; i <= 40; i++) await inStep`update t set v = v + 1 where id <= ${(i % 4) + 1}`;
      for (let i = 0; i < 30; i++) await inStep`select count(*) from t where v > ${i}`;
      // The same statement in another database is not the step's.
      for (let i = 0; i < 50; i++) await elsewhere`select count(*) from t where v > ${i}`;

      const after = await readStatements(adminUrl, step);
      // The window's ends read the counters alone; the texts come after, by statement.
      expect([...after!.values()].every((c) => c.query === "")).toBe(true);
      const texts = await readStatementTexts(adminUrl, step);
      expect([...after!.keys()].every((id) => texts!.has(id))).toBe(true);
      const shares = statementsBetween(before!, after!, 2, 20, texts);
      const update = shares.find((s) => s.statement.startsWith("update t set v = v + $2 where id <= $1"));
      const selects = shares.filter((s) => s.statement.startsWith("select count(*) from t"));
      expect(update).toMatchObject({ callsPerS: 20, rowsPerCall: 2.5 }); // 40 calls in 2 s; rows 1..4 by turns
      expect(selects).toHaveLength(1);
      expect(selects[0]).toMatchObject({ callsPerS: 15 });
      expect(update!.usPerCall).toBeGreaterThan(0);
      expect(update!.msPerS).toBeGreaterThan(0);
      // Those that took most time first.
      expect(shares.map((s) => s.msPerS)).toEqual([...shares.map((s) => s.msPerS)].sort((a, b) => b - a));
    } finally {
      await inStep.end();
      await elsewhere.end();
      await dropDatabase(adminUrl, step).catch(() => {});
      await dropDatabase(adminUrl, other).catch(() => {});
    }
  });

  test("a server that keeps no counters gives none, and the bench goes on", async () => {
    const url = new URL(adminUrl);
    url.port = "1"; // nothing listens there
    expect(await readStatements(url.toString(), "evnet")).toBeUndefined();
    expect(await readStatementTexts(url.toString(), "evnet")).toBeUndefined();
  });
});

describe("a window's statements from two snapshots", () => {
  const snap = (entries: [string, string, number, number, number][]): StatementSnapshot =>
    new Map(entries.map(([id, query, calls, totalMs, rows]) => [id, { query, calls, totalMs, rows }]));

  test("the difference per statement, per second, the costliest first, at most `top`", () => {
    const before = snap([
      ["1/10", "update a  set x = $1\n   where id = any($2)", 100, 400, 1000],
      ["2/10", "select 1", 50, 5, 50],
      ["3/10", "select gone", 10, 1, 10],
    ]);
    const after = snap([
      ["1/10", "update a  set x = $1\n   where id = any($2)", 160, 1000, 2200],
      ["2/10", "select 1", 80, 8, 80],
      ["4/10", "insert into b values ($1)", 20, 100, 20],
    ]);
    expect(statementsBetween(before, after, 10)).toEqual([
      { statement: "update a set x = $1 where id = any($2)", callsPerS: 6, msPerS: 60, usPerCall: 10_000, rowsPerCall: 20 },
      { statement: "insert into b values ($1)", callsPerS: 2, msPerS: 10, usPerCall: 5_000, rowsPerCall: 1 },
      { statement: "select 1", callsPerS: 3, msPerS: 0.3, usPerCall: 100, rowsPerCall: 1 },
    ]);
    expect(statementsBetween(before, after, 10, 1)).toHaveLength(1);
  });

  test("counters read without their texts are named from the texts read later", () => {
    const before = snap([["1/10", "", 100, 400, 1000]]);
    const after = snap([
      ["1/10", "", 160, 1000, 2200],
      ["5/10", "", 4, 2, 4],
    ]);
    const texts = new Map([["1/10", "update a\n  set x = $1"]]);
    expect(statementsBetween(before, after, 10, 8, texts)).toEqual([
      { statement: "update a set x = $1", callsPerS: 6, msPerS: 60, usPerCall: 10_000, rowsPerCall: 20 },
      // forgotten by the server between the window's end and the read of the texts
      { statement: "", callsPerS: 0.4, msPerS: 0.2, usPerCall: 500, rowsPerCall: 1 },
    ]);
  });

  test("a statement the server forgot and counted again counts from zero; one not run is left out", () => {
    const before = snap([
      ["1/10", "select a", 500, 50, 500],
      ["2/10", "select b", 7, 1, 7],
    ]);
    const after = snap([
      ["1/10", "select a", 30, 6, 30],
      ["2/10", "select b", 7, 1, 7],
    ]);
    expect(statementsBetween(before, after, 3)).toEqual([{ statement: "select a", callsPerS: 10, msPerS: 2, usPerCall: 200, rowsPerCall: 1 }]);
  });
});
