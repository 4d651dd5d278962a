/**
 * Statements built once (src/db/statements.ts) run on the handle they are given — the database
 * or a transaction — and give what the builder itself gives, on PostgreSQL and on PGlite. They
 * rely on one thing drizzle does not promise (a prepared query runs on its `client`): these
 * tests fail if that changes.
 */
import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { chargingPoints, chargingSessions, drivers } from "../../src/db/schema/index.ts";
import { statement } from "../../src/db/statements.ts";
import { bothDatabases, uniqueName } from "../support/services.ts";

const databases = bothDatabases();

const sessionById = statement("test_session_by_id", (db) =>
  db
    .select()
    .from(chargingSessions)
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId"))),
);
const cpForUpdate = statement("test_cp_for_update", (db) =>
  db
    .select()
    .from(chargingPoints)
    .where(eq(chargingPoints.cpId, sql.placeholder("cpId")))
    .for("update"),
);
const driverCharging = statement("test_driver_charging", (db) =>
  db
    .update(drivers)
    .set({ status: "CHARGING", currentSessionId: sql`${sql.placeholder("sessionId")}`, lastSeenAt: sql`now()` })
    .where(eq(drivers.driverId, sql.placeholder("driverId")))
    .returning({ driverId: drivers.driverId, status: drivers.status }),
);

async function seed(db: Db) {
  const cpId = uniqueName("CP");
  const driverId = uniqueName("D");
  const sessionId = uniqueName("S");
  await db.insert(chargingPoints).values({ cpId, location: "Alicante", pricePerKwh: 0.3 });
  await db.insert(drivers).values({ driverId });
  await db.insert(chargingSessions).values({ sessionId, cpId, driverId, pricePerKwh: 0.3 });
  return { cpId, driverId, sessionId };
}

describe.each(["postgres", "pglite"] as const)("statements built once, on %s", (kind) => {
  test("a select gives the builder's own rows, types and all, run after run with other values", async () => {
    const { db } = databases[kind];
    const a = await seed(db);
    const b = await seed(db);
    for (const { sessionId } of [a, b, a]) {
      const built = await db.select().from(chargingSessions).where(eq(chargingSessions.sessionId, sessionId));
      const once = await sessionById(db, { sessionId });
      expect(once).toEqual(built);
      expect(once).toHaveLength(1);
      expect(once[0]!.startedAt).toBeInstanceOf(Date);
      expect(typeof once[0]!.pricePerKwh).toBe("number");
    }
    expect(await sessionById(db, { sessionId: "no-such-session" })).toEqual([]);
  });

  test("inside a transaction it runs on the transaction's connection: its writes and locks, and its rollback", async () => {
    const { db } = databases[kind];
    const { cpId, driverId, sessionId } = await seed(db);
    await expect(
      db.transaction(async (tx) => {
        const [cp] = await cpForUpdate(tx, { cpId });
        expect(cp!.cpId).toBe(cpId);
        expect(await driverCharging(tx, { sessionId, driverId })).toEqual([{ driverId, status: "CHARGING" }]);
        // The transaction sees its own write through the statement; then it is rolled back.
        const [d] = await tx.select().from(drivers).where(eq(drivers.driverId, driverId));
        expect(d!.currentSessionId).toBe(sessionId);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    const [after] = await db.select().from(drivers).where(eq(drivers.driverId, driverId));
    expect(after!.currentSessionId).toBeNull();
    expect(after!.status).not.toBe("CHARGING");
    // And committed when the transaction is.
    await db.transaction(async (tx) => {
      await driverCharging(tx, { sessionId, driverId });
    });
    const [committed] = await db.select().from(drivers).where(eq(drivers.driverId, driverId));
    expect(committed!.currentSessionId).toBe(sessionId);
  });

  if (kind === "postgres")
    test("a row locked by a statement in one transaction holds another transaction's statement until it ends", async () => {
      const { db } = databases.postgres;
      const { cpId } = await seed(db);
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const first = db.transaction(async (tx) => {
        await cpForUpdate(tx, { cpId });
        locked();
        await held;
        order.push("first ends");
      });
      await isLocked;
      const second = db.transaction(async (tx) => {
        await cpForUpdate(tx, { cpId });
        order.push("second has the lock");
      });
      await Bun.sleep(200);
      expect(order).toEqual([]); // waiting for the first transaction's lock
      release();
      await Promise.all([first, second]);
      expect(order).toEqual(["first ends", "second has the lock"]);
    });
});
