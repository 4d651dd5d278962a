/**
 * A charger's transactions turned into evnet sessions, the same for both OCPP versions:
 *  - a start the gateway asked for (Central's session awaiting its start) keeps Central's
 *    session id; any other start (a card at the charger, a start made offline) is a session
 *    the CP started itself;
 *  - meter values become live telemetry, energy = register − register at the start;
 *  - a stop closes the session with the charger's own final reading.
 * A start or stop the charger sends again (it did not hear the answer, or replays after an
 * outage) is recognised and counted once; a stop whose start never arrived is billed from the
 * start reading the stop carries, or audited as unbillable.
 */
import { and, eq, isNull } from "drizzle-orm";
import { chargingSessions, type OcppTransactionRow } from "../../db/schema/index.ts";
import { costOf, type EndReason, meterKwh } from "../../domain/billing.ts";
import { isId } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import type { ChargerLink } from "./link.ts";
import { type MeterReading, sessionKwh } from "./meter.ts";
import { endTransaction, recordTransaction } from "./transactions.ts";

export interface TransactionStart {
  /** 2.0.1: the charger's transaction id; 1.6: none (the gateway assigns one). */
  ocppTxId?: string;
  idToken: string | null;
  connectorId: number;
  /** 1.6: connector|idTag|timestamp|meterStart. */
  startKey?: string;
  meterStartWh: number | null;
  startedAt: Date;
}

export function newSessionId(): string {
  return `S-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Central's session at this CP for this driver that waits for the charger to start. */
async function awaitedSession(link: ChargerLink, driverId: string): Promise<string | undefined> {
  const [row] = await link.ctx.db
    .select({ sessionId: chargingSessions.sessionId })
    .from(chargingSessions)
    .where(
      and(
        eq(chargingSessions.cpId, link.cpId),
        eq(chargingSessions.driverId, driverId),
        eq(chargingSessions.status, "IN_PROGRESS"),
        isNull(chargingSessions.supplyStartedAt),
      ),
    );
  return row?.sessionId;
}

/**
 * Records a transaction start and tells Central; the same start again finds the same
 * transaction. A start whose token was not accepted is recorded (its stop must be known) but
 * is no session: `announce` false.
 */
export async function startTransaction(link: ChargerLink, s: TransactionStart, announce = true): Promise<OcppTransactionRow> {
  const driverId = s.idToken && isId(s.idToken) ? s.idToken : undefined;
  const awaited = driverId ? await awaitedSession(link, driverId) : undefined;
  const { row, created } = await recordTransaction(link.ctx.db, {
    cpId: link.cpId,
    ocppTxId: s.ocppTxId,
    sessionId: awaited ?? newSessionId(),
    idTag: s.idToken,
    connectorId: s.connectorId,
    startKey: s.startKey,
    meterStartWh: s.meterStartWh,
    startedAt: s.startedAt,
  });
  if (!created) link.ctx.log.info("a transaction start came again: same transaction", { cp_id: link.cpId, ocpp_tx_id: row.ocppTxId });
  link.keepTransaction(row);
  if (announce) announceStart(link, row, awaited !== undefined);
  return row;
}

/** Tells Central a transaction started (again after a retry: Central counts it once). */
export function announceStart(link: ChargerLink, row: OcppTransactionRow, remote: boolean): void {
  const at = new Date().toISOString();
  if (remote) link.publish({ type: "supply_started", session_id: row.sessionId, at });
  else if (row.idTag && isId(row.idTag))
    link.publish({ type: "local_session_started", session_id: row.sessionId, driver_id: row.idTag, started_at: row.startedAt.toISOString(), at });
  else
    void link.ctx.auditor.record({
      eventType: "session",
      actorType: "cp",
      actorId: link.cpId,
      resource: cpResource(link.cpId),
      action: "start_session",
      outcome: "failure",
      reason: "a transaction without a driver token evnet can bill (no id tag, or not a driver id)",
      details: { ocpp_tx_id: row.ocppTxId, id_tag: row.idTag?.slice(0, 64) ?? null },
    });
}

/** Live readings of an open transaction, as telemetry. */
export async function meterValues(link: ChargerLink, row: OcppTransactionRow, readings: MeterReading[]): Promise<void> {
  let start = row.meterStartWh;
  for (const r of readings) {
    if (r.energyWh === undefined) continue;
    const beginsHere = start === null;
    if (beginsHere) start = r.energyWh;
    link.ctx.meterNotes.note(row.id, r.energyWh, beginsHere ? r.energyWh : undefined);
    row.meterStartWh = start;
    row.lastMeterWh = r.energyWh;
    if (row.status !== "open") continue;
    const energy = meterKwh(sessionKwh(r.energyWh, start!));
    link.publish({
      type: "telemetry",
      session_id: row.sessionId,
      power_kw: Math.min(10_000, Math.max(0, (r.powerW ?? 0) / 1000)),
      energy_kwh: energy,
      cost_eur: costOf(energy, link.pricePerKwh),
      elapsed_s: Math.max(0, (r.at.getTime() - row.startedAt.getTime()) / 1000),
      at: r.at.toISOString(),
    });
  }
}

export interface TransactionStop {
  meterStopWh: number | null;
  stoppedAt: Date;
  reason: EndReason;
  /** The charger's own words for why, kept in the record. */
  chargerReason: string;
}

/** Ends a transaction with the charger's final reading and closes its session; a repeated stop does nothing. */
export async function stopTransaction(link: ChargerLink, row: OcppTransactionRow, stop: TransactionStop): Promise<void> {
  const meterStopWh = stop.meterStopWh ?? row.lastMeterWh;
  await link.ctx.meterNotes.written(); // the readings before the stop are stored first (its start reading among them)
  const ended = await endTransaction(link.ctx.db, row.id, {
    meterStopWh,
    stoppedAt: stop.stoppedAt,
    reason: stop.chargerReason,
    meterStartWh: row.meterStartWh ?? undefined,
  });
  link.keepTransaction({ ...row, status: "ended" });
  if (!ended) {
    link.ctx.log.info("a transaction stop came again: already ended", { cp_id: link.cpId, ocpp_tx_id: row.ocppTxId });
    return;
  }
  const start = ended.meterStartWh;
  const energy = start !== null && meterStopWh !== null ? meterKwh(sessionKwh(meterStopWh, start)) : undefined;
  link.publish({
    type: "supply_ended",
    session_id: ended.sessionId,
    reason: stop.reason,
    power_kw: 0,
    // Without a start reading the charger's meter says nothing of this session: Central keeps what it billed.
    energy_kwh: energy ?? 0,
    cost_eur: energy === undefined ? 0 : costOf(energy, link.pricePerKwh),
    started_at: ended.startedAt.toISOString(),
    ended_at: stop.stoppedAt.toISOString(),
  });
  if (stop.reason === "fault") link.reportHealth("a transaction ended in a fault", true);
}

/**
 * A stop (or a later event) of a transaction the gateway never saw start: recorded as a
 * transaction started at `begin` (from the charger's own Transaction.Begin reading), then
 * stopped if it is a stop. Without a begin reading or a driver it cannot be billed: audited.
 */
export async function unknownTransaction(
  link: ChargerLink,
  t: { ocppTxId: string; idToken: string | null; connectorId: number; begin?: MeterReading; firstSeen: MeterReading | undefined; at: Date },
): Promise<OcppTransactionRow | undefined> {
  const begin = t.begin ?? t.firstSeen;
  if (!t.idToken || !isId(t.idToken) || begin?.energyWh === undefined) {
    await link.ctx.auditor.record({
      eventType: "session",
      actorType: "cp",
      actorId: link.cpId,
      resource: cpResource(link.cpId),
      action: "bill_transaction",
      outcome: "failure",
      reason: "a transaction whose start never arrived, without a start reading or a driver token: it cannot be billed",
      details: { ocpp_tx_id: t.ocppTxId.slice(0, 100), id_tag: t.idToken?.slice(0, 64) ?? null },
    });
    return undefined;
  }
  if (!t.begin) link.ctx.log.warn("a transaction whose start never arrived is billed from its first reading", { cp_id: link.cpId, ocpp_tx_id: t.ocppTxId });
  return startTransaction(link, {
    ocppTxId: t.ocppTxId,
    idToken: t.idToken,
    connectorId: t.connectorId,
    meterStartWh: begin.energyWh,
    startedAt: new Date(Math.min(begin.at.getTime(), t.at.getTime())),
  });
}
