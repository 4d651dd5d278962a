/**
 * The statements a batch writes with (readings, heartbeats, sequences, waits, silence probes,
 * OCPP meter notes) find their rows through the tables' indexes, not by reading whole tables.
 * PostgreSQL cannot tell how many rows a JSON parameter holds (it assumes a hundred): on a
 * network of a thousand charging CPs, the plan it keeps for a statement prepared once joined
 * them by reading the whole table, for every batch of a few readings. Each statement now also
 * names its keys in one array parameter (keyList). Checked on PostgreSQL's own plans.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { type Database, jsonRows, openDatabase, rowsOf } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { lastAcceptedQuery } from "../../src/db/repos/message-sequences.ts";
import { heartbeatsUpdate, readingsUpdate } from "../../src/roles/central/cp-events.ts";
import { silentCpsQuery } from "../../src/roles/central/probes.ts";
import { sequencesUpdate } from "../../src/roles/central/sequences.ts";
import { startWaitsStatement } from "../../src/roles/central/work.ts";
import { meterNotesUpdate } from "../../src/roles/ocpp/transactions.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

const CPS = 1000;

let testDb: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url, maxConnections: 1 });
  await migrate(database.db);
  const { db } = database;
  await db.execute(sql`insert into charging_points (cp_id, location, price_per_kwh) select 'CP_' || g, 'Here', 0.3 from generate_series(1, ${CPS}) g`);
  await db.execute(sql`insert into drivers (driver_id) select 'D' || g from generate_series(1, ${CPS}) g`);
  await db.execute(sql`
    insert into charging_sessions (session_id, cp_id, driver_id, status, price_per_kwh, ended_at, end_reason)
    select 'S-' || g || '-1', 'CP_' || g, 'D' || g, 'COMPLETED', 0.3, now(), 'driver_stop' from generate_series(1, 50) g`);
  await db.execute(sql`
    insert into charging_sessions (session_id, cp_id, driver_id, price_per_kwh)
    select 'S-' || g || '-open', 'CP_' || g, 'D' || g, 0.3 from generate_series(1, ${CPS}) g`);
  await db.execute(sql`
    insert into message_sequences (key_id, sender, last_seq)
    select 'k-' || g, r || ':CP_' || g, 1 from generate_series(1, ${CPS}) g, unnest(array['engine', 'monitor']) r`);
  await db.execute(sql`
    insert into ocpp_transactions (cp_id, ocpp_tx_id, session_id, started_at, status)
    select 'CP_' || g, 'tx-' || g || '-' || k, 'S-' || g || '-' || k, now(), case when k = 1 then 'ended' else 'open' end
      from generate_series(1, ${CPS}) g, generate_series(1, 2) k`);
  await db.execute(sql`analyze`);
}, 60_000);

afterAll(async () => {
  await database?.close();
  await testDb?.drop();
});

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };

/** A value written as an SQL literal (the tests' own values: text, numbers, lists of them). */
function literal(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return literal(`{${v.map((e) => (typeof e === "number" ? String(e) : `"${String(e).replace(/["\\]/g, "\\$&")}"`)).join(",")}}`);
  return `'${String(v).replace(/'/g, "''")}'`;
}

/**
 * The tables PostgreSQL would read whole (a sequential scan) to run the statement as Central
 * does: prepared once and run many times, which is planned once for any parameters (a generic
 * plan, forced here; PostgreSQL switches to it after a few runs).
 */
async function tablesReadWhole(statement: SQL): Promise<string[]> {
  const { sql: text, params } = new PgDialect().sqlToQuery(statement);
  let found: unknown;
  await database.db.transaction(async (tx) => {
    await tx.execute(sql.raw("set local plan_cache_mode = force_generic_plan"));
    await tx.execute(sql.raw(`prepare plan_check as ${text}`));
    const args = params.length ? `(${params.map(literal).join(", ")})` : "";
    [found] = rowsOf<{ "QUERY PLAN": unknown }>(await tx.execute(sql.raw(`explain (format json) execute plan_check${args}`)));
    await tx.execute(sql.raw("deallocate plan_check"));
  });
  const plan = (found as { "QUERY PLAN": [{ Plan: PlanNode }] | string })["QUERY PLAN"];
  const root = (typeof plan === "string" ? JSON.parse(plan) : plan)[0].Plan as PlanNode;
  const whole: string[] = [];
  const walk = (n: PlanNode) => {
    if (n["Node Type"] === "Seq Scan" && n["Relation Name"]) whole.push(n["Relation Name"]);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(root);
  return whole;
}

const few = [1, 2, 3, 4, 5];

describe("a batch's statements on a network of 1,000 CPs, each charging", () => {
  test("the check can fail: a JSON parameter joined without its keys reads the whole table", async () => {
    const rows = few.map((g) => ({ id: `S-${g}-open`, cp: `CP_${g}`, q: 2 }));
    const unkeyed = sql`
      update charging_sessions as s set last_telemetry_seq = v.q
        from json_to_recordset(${jsonRows(rows)}::json) as v(id text, cp text, q bigint)
       where s.session_id = v.id and s.cp_id = v.cp and s.status = 'IN_PROGRESS'`;
    expect(await tablesReadWhole(unkeyed)).toContain("charging_sessions");
  });

  test("readings, heartbeats and sequences are written through the indexes", async () => {
    const at = new Date().toISOString();
    const readings = few.map((g) => ({ id: `S-${g}-open`, cp: `CP_${g}`, p: 7, e: 1, c: 0.3, q: 5, m: 5, t: at, k: g % 2 === 0 }));
    expect(await tablesReadWhole(readingsUpdate(readings))).toEqual([]);
    expect(await tablesReadWhole(readingsUpdate(readings, { skipLocked: true }))).toEqual([]);
    expect(await tablesReadWhole(heartbeatsUpdate(few.map((g) => ({ id: `CP_${g}`, i: 5, q: 9, m: 9 }))))).toEqual([]);
    expect(await tablesReadWhole(sequencesUpdate(few.map((g) => ({ k: `k-${g}`, s: `monitor:CP_${g}`, q: 9 }))))).toEqual([]);
    expect(await tablesReadWhole(lastAcceptedQuery(few.map((g) => ({ keyId: `k-${g}`, sender: `engine:CP_${g}` }))))).toEqual([]);
  });

  test("a command's wait, the silence probes and OCPP meter notes find their rows through the indexes", async () => {
    const waits = few.map((g) => ({ id: `S-${g}-open`, a: g % 2 ? "start" : "end" }));
    expect(await tablesReadWhole(startWaitsStatement(waits, { startTimeoutS: 30, endGraceS: 10 }))).toEqual([]);
    expect(await tablesReadWhole(silentCpsQuery(few.map((g) => `CP_${g}`)))).toEqual([]);
    const [first] = rowsOf<{ id: number }>(await database.db.execute(sql`select min(id) as id from ocpp_transactions`));
    const ids = few.map((n) => Number(first!.id) + n);
    expect(await tablesReadWhole(meterNotesUpdate(ids.map((id) => ({ id, w: 1000, s: null }))))).toEqual([]);
  });

  test("the statements still do what they did", async () => {
    const at = new Date().toISOString();
    const { db } = database;
    await db
      .transaction(async (tx) => {
        // Two sessions in progress take their readings; a closed one and one whose last reading is
        // newer do not. Of the readings due as samples (k), only those a session took are kept.
        const readings = [
          { id: "S-1-open", cp: "CP_1", p: 7, e: 1.5, c: 0.45, q: 10, m: 10, t: at, k: true },
          { id: "S-2-open", cp: "CP_2", p: 7, e: 2, c: 0.6, q: 10, m: 10, t: at, k: false },
          { id: "S-3-1", cp: "CP_3", p: 7, e: 2, c: 0.6, q: 10, m: 10, t: at, k: true },
          { id: "S-4-open", cp: "CP_4", p: 7, e: 2, c: 0.6, q: 10, m: 0, t: at, k: true },
        ];
        const answered = rowsOf<{ session_id: string; k: boolean; written: boolean; done: boolean }>(await tx.execute(readingsUpdate(readings)));
        expect(answered.every((r) => r.done)).toBe(true);
        const written = answered.filter((r) => r.written);
        expect(written.map((r) => [r.session_id, r.k]).sort()).toEqual([
          ["S-1-open", true],
          ["S-2-open", false],
        ]);
        const samples = rowsOf<{ session_id: string; cp_id: string; power_kw: number; energy_kwh: number }>(
          await tx.execute(sql`select session_id, cp_id, power_kw, energy_kwh from session_samples`),
        );
        expect(samples).toEqual([{ session_id: "S-1-open", cp_id: "CP_1", power_kw: 7, energy_kwh: 1.5 }]);
        const beats = rowsOf<{ cp_id: string }>(
          await tx.execute(
            heartbeatsUpdate([
              { id: "CP_7", i: 5, q: 9, m: 9 },
              { id: "CP_8", i: 5, q: 9, m: 0 },
              { id: "CP_NONE", i: 5, q: 9, m: 9 },
            ]),
          ),
        );
        expect(beats.map((r) => r.cp_id)).toEqual(["CP_7"]);
        const moved = rowsOf<{ k: string; s: string }>(
          await tx.execute(
            sequencesUpdate([
              { k: "k-1", s: "engine:CP_1", q: 9 },
              { k: "k-1", s: "monitor:CP_1", q: 1 },
            ]),
          ),
        );
        expect(moved).toEqual([{ k: "k-1", s: "engine:CP_1" }]);
        const waitsLeft = rowsOf<{ session_id: string }>(
          await tx.execute(startWaitsStatement([{ id: "S-5-open", a: "start" }], { startTimeoutS: 30, endGraceS: 10 })),
        );
        expect(waitsLeft).toEqual([]);
        const [waiting] = rowsOf<{ set: boolean }>(
          await tx.execute(sql`select awaiting_until is not null as set from charging_sessions where session_id = 'S-5-open'`),
        );
        expect(waiting!.set).toBe(true);
        tx.rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.message.includes("Rollback"))) throw err;
      });
    const last = rowsOf<{ key_id: string; sender: string; last_seq: string | number }>(
      await db.execute(
        lastAcceptedQuery([
          { keyId: "k-2", sender: "engine:CP_2" },
          { keyId: "k-2", sender: "nobody" },
        ]),
      ),
    );
    expect(last.map((r) => [r.key_id, r.sender, Number(r.last_seq)])).toEqual([["k-2", "engine:CP_2", 1]]);
  });

  test("the held readings' write skips a row another transaction holds, and says which to try again", async () => {
    const at = new Date().toISOString();
    const { db } = database;
    const rolledBack = (err: unknown) => {
      if (!(err instanceof Error && err.message.includes("Rollback"))) throw err;
    };
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let lockedIt!: () => void;
    const locked = new Promise<void>((r) => (lockedIt = r));
    // A batch holds S-6-open's row (on a connection of its own).
    const other = await openDatabase({ url: testDb.url, maxConnections: 1 });
    const holder = other.db
      .transaction(async (tx) => {
        await tx.execute(sql`select 1 from charging_sessions where session_id = 'S-6-open' for update`);
        lockedIt();
        await released;
        tx.rollback();
      })
      .catch(rolledBack);
    await locked;
    try {
      await db
        .transaction(async (tx) => {
          const readings = [
            { id: "S-6-open", cp: "CP_6", p: 7, e: 3, c: 0.9, q: 50, m: 50, t: at, k: false },
            { id: "S-7-open", cp: "CP_7", p: 7, e: 3, c: 0.9, q: 50, m: 50, t: at, k: false },
            { id: "S-NONE", cp: "CP_7", p: 7, e: 3, c: 0.9, q: 50, m: 50, t: at, k: false },
          ];
          const answered = rowsOf<{ session_id: string; written: boolean; done: boolean }>(await tx.execute(readingsUpdate(readings, { skipLocked: true })));
          expect(answered.map((r) => [r.session_id, r.written, r.done]).sort()).toEqual([
            ["S-6-open", false, false], // locked: not waited for, to be tried again
            ["S-7-open", true, true],
            ["S-NONE", false, true], // no such session: nothing to try again
          ]);
          tx.rollback();
        })
        .catch(rolledBack);
    } finally {
      release();
      await holder;
      await other.close();
    }
  });
});
