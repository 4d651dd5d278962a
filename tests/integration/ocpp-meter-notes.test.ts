/**
 * The gateway's record of each open transaction's newest register reading, against the real
 * PostgreSQL: readings noted as MeterValues arrive are written together, the newest one per
 * transaction; the reading that began a transaction stays its start; an ended transaction is
 * not changed; `written()` waits until what was noted is stored, and a failed write is reported.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { chargingPoints } from "../../src/db/schema/index.ts";
import { endTransaction, findTransaction, MeterNotes, recordTransaction } from "../../src/roles/ocpp/transactions.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";

let database: TestDatabase;
let handle: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  handle = await openDatabase({ url: database.url, maxConnections: 4 });
  await migrate(handle.db);
  await handle.db.insert(chargingPoints).values({ cpId: "MN1", location: "Madrid", pricePerKwh: 0.3 });
});

afterAll(async () => {
  await handle?.close();
  await database?.drop();
});

const open = async (ocppTxId: string, meterStartWh: number | null) =>
  (await recordTransaction(handle.db, { cpId: "MN1", ocppTxId, sessionId: `S-${ocppTxId}`, idTag: "D1", connectorId: 1, meterStartWh, startedAt: new Date() }))
    .row;

describe("the newest meter reading of each open transaction", () => {
  test("is written once per transaction, the newest, with the start a first reading gave", async () => {
    const a = await open("A", 1000);
    const b = await open("B", null); // the charger gave no start reading: its first MeterValues does
    const failures: unknown[] = [];
    const notes = new MeterNotes(handle.db, (err) => failures.push(err));
    notes.note(a.id, 1500);
    notes.note(b.id, 7000, 7000);
    for (let wh = 1600; wh <= 2500; wh += 100) notes.note(a.id, wh);
    notes.note(b.id, 7400);
    await notes.written();
    expect(failures).toEqual([]);
    expect(await findTransaction(handle.db, "MN1", "A")).toMatchObject({ meterStartWh: 1000, lastMeterWh: 2500 });
    expect(await findTransaction(handle.db, "MN1", "B")).toMatchObject({ meterStartWh: 7000, lastMeterWh: 7400 });
  });

  test("leaves an ended transaction as it ended", async () => {
    const c = await open("C", 0);
    await endTransaction(handle.db, c.id, { meterStopWh: 900, stoppedAt: new Date(), reason: "Local" });
    const notes = new MeterNotes(handle.db, () => {});
    notes.note(c.id, 950);
    await notes.written();
    expect(await findTransaction(handle.db, "MN1", "C")).toMatchObject({ status: "ended", meterStopWh: 900, lastMeterWh: null });
  });

  test("reports a write the database refused, and goes on with the next readings", async () => {
    const d = await open("D", 0);
    const failures: number[] = [];
    let refuse = true;
    const db = new Proxy(handle.db, {
      get(target, prop, receiver) {
        if (prop === "execute" && refuse) {
          refuse = false;
          return async () => {
            throw new Error("connection lost");
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const notes = new MeterNotes(db, (_err, count) => failures.push(count));
    notes.note(d.id, 100);
    await notes.written();
    notes.note(d.id, 200);
    await notes.written();
    expect(failures).toEqual([1]);
    expect(await findTransaction(handle.db, "MN1", "D")).toMatchObject({ lastMeterWh: 200 });
  });
});
