/**
 * `ocpp_transactions`, the gateway's record of each OCPP transaction and the evnet session it
 * is: shared by every gateway, so a charger's Stop finds its Start whichever gateway took it,
 * hours later too. Every write is idempotent (a charger retries, replays after an outage).
 */
import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import { type Db, jsonRows, keyList, rowsOf } from "../../db/client.ts";
import { type OcppTransactionRow, ocppTransactions } from "../../db/schema/index.ts";
import { LatestPerKey } from "../../lib/latest-per-key.ts";

export interface NewTransaction {
  cpId: string;
  /** 2.0.1: the charger's id; 1.6: none (the table's id becomes it). */
  ocppTxId?: string;
  sessionId: string;
  idTag: string | null;
  connectorId: number;
  /** 1.6: what makes a retried StartTransaction the same one. */
  startKey?: string;
  meterStartWh: number | null;
  startedAt: Date;
}

/** Records a transaction, or finds the one already recorded (same 1.6 start or same 2.0.1 id): `created` says which. */
export async function recordTransaction(db: Db, t: NewTransaction): Promise<{ row: OcppTransactionRow; created: boolean }> {
  return db.transaction(async (tx) => {
    let values = { ...t, ocppTxId: t.ocppTxId ?? "" };
    let id: number | undefined;
    if (t.ocppTxId === undefined) {
      const [next] = rowsOf<{ id: number }>(await tx.execute(sql`select nextval(pg_get_serial_sequence('ocpp_transactions', 'id'))::int as id`));
      id = Number(next!.id);
      values = { ...values, ocppTxId: String(id) };
    }
    const inserted = await tx
      .insert(ocppTransactions)
      .values({ ...values, ...(id !== undefined ? { id } : {}) })
      .onConflictDoNothing()
      .returning();
    if (inserted[0]) return { row: inserted[0], created: true };
    const where = t.startKey
      ? and(eq(ocppTransactions.cpId, t.cpId), eq(ocppTransactions.startKey, t.startKey))
      : and(eq(ocppTransactions.cpId, t.cpId), eq(ocppTransactions.ocppTxId, values.ocppTxId));
    const [existing] = await tx.select().from(ocppTransactions).where(where);
    return { row: existing!, created: false };
  });
}

export async function findTransaction(db: Db, cpId: string, ocppTxId: string): Promise<OcppTransactionRow | undefined> {
  const [row] = await db
    .select()
    .from(ocppTransactions)
    .where(and(eq(ocppTransactions.cpId, cpId), eq(ocppTransactions.ocppTxId, ocppTxId)));
  return row;
}

export async function findBySession(db: Db, cpId: string, sessionId: string): Promise<OcppTransactionRow | undefined> {
  const [row] = await db
    .select()
    .from(ocppTransactions)
    .where(and(eq(ocppTransactions.cpId, cpId), eq(ocppTransactions.sessionId, sessionId)));
  return row;
}

interface MeterNote {
  /** The transaction's row id. */
  id: number;
  registerWh: number;
  /** The register at the transaction's start, when this reading began it. */
  startWh?: number;
}

/**
 * Keeps the newest register reading of each open transaction (for a Stop that brings none, and
 * for the record): noted as MeterValues arrive, written together, one statement for every
 * transaction noted since the last write (one row write per MeterValues was most of what
 * thousands of chargers cost the database). `written()` waits until what was noted is stored.
 */
export class MeterNotes {
  private latest = new LatestPerKey<MeterNote>((notes) => this.write(notes));

  constructor(
    private db: Db,
    private onFailure: (err: unknown, count: number) => void,
  ) {}

  note(transactionId: number, registerWh: number, startWh?: number): void {
    // A start noted and not yet written stays the start.
    this.latest.put(String(transactionId), { id: transactionId, registerWh, startWh }, (waiting, next) => ({
      ...next,
      startWh: next.startWh ?? waiting.startWh,
    }));
  }

  /** Resolves once every reading noted so far is written (or its write failed). */
  written(): Promise<void> {
    return this.latest.idle();
  }

  private async write(notes: MeterNote[]): Promise<void> {
    const rows = notes.map((n) => ({ id: n.id, w: n.registerWh, s: n.startWh ?? null }));
    try {
      await this.db.execute(meterNotesUpdate(rows));
    } catch (err) {
      this.onFailure(err, notes.length);
    }
  }
}

/** The meter notes' statement: each open transaction's register (and its start, once), looked up by their ids. */
export function meterNotesUpdate(rows: { id: number; w: number; s: number | null }[]): SQL {
  return sql`
    update ${ocppTransactions} as t
       set last_meter_wh = v.w, meter_start_wh = coalesce(t.meter_start_wh, v.s)
      from json_to_recordset(${jsonRows(rows)}::json) as v(id int, w float8, s float8)
     where t.id = any(${keyList(
       rows.map((r) => r.id),
       "int",
     )}) and t.id = v.id and t.status = 'open'`;
}

/** Ends an open transaction; undefined when it had ended already (a repeated Stop). */
export async function endTransaction(
  db: Db,
  id: number,
  end: { meterStopWh: number | null; stoppedAt: Date; reason: string; meterStartWh?: number },
): Promise<OcppTransactionRow | undefined> {
  const [row] = await db
    .update(ocppTransactions)
    .set({
      status: "ended",
      meterStopWh: end.meterStopWh,
      stoppedAt: end.stoppedAt,
      stopReason: end.reason,
      ...(end.meterStartWh !== undefined ? { meterStartWh: sql`coalesce(${ocppTransactions.meterStartWh}, ${end.meterStartWh})` } : {}),
    })
    .where(and(eq(ocppTransactions.id, id), eq(ocppTransactions.status, "open")))
    .returning();
  return row;
}

/** A transaction that began without a driver's token (plugged in first) learns it later. */
export async function attachToken(db: Db, id: number, idTag: string): Promise<OcppTransactionRow | undefined> {
  const [row] = await db
    .update(ocppTransactions)
    .set({ idTag })
    .where(and(eq(ocppTransactions.id, id), isNull(ocppTransactions.idTag)))
    .returning();
  return row;
}
