/**
 * Charging sessions: opened when Central authorises a request, ended by asking the engine to
 * stop (and waiting a grace period, from when the stop was published, for its final reading),
 * closed with a ticket. The ticket is the engine's meter: its final reading, or else the last
 * reading Central applied, and a final reading that arrives after the session was closed
 * corrects the ticket. A session is always handled with its CP's row locked (see cp-records.ts),
 * and its start and end save the CP's state again (SUPPLYING, then whatever its facts say).
 */
import { and, eq, sql } from "drizzle-orm";
import type { Authorised, LocalSessionStarted, StartSupply, Stopping, StopSupply, TicketMessage } from "../../bus/messages.ts";
import { nowIso } from "../../bus/messages.ts";
import { newStopToken } from "../../crypto/stop-token.ts";
import { isCityInAlert } from "../../db/repos/weather.ts";
import { type CpRow, chargingSessions, drivers, type SessionRow } from "../../db/schema/index.ts";
import { filled, statement } from "../../db/statements.ts";
import { END_REASON_TEXT, type EndReason, finalEnergy, type Ticket, ticketFor } from "../../domain/billing.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { settled } from "../../lib/settled.ts";
import { NoActiveKeyError } from "./channel.ts";
import { type Cause, type Changed, type FactChange, saveCpState } from "./cp-state.ts";
import { tellDriver } from "./driver-updates.ts";
import type { Work } from "./work.ts";

export const sessionResource = (sessionId: string) => `session/${sessionId}`;

// The statements of a session's start and end, built once (src/db/statements.ts).

/** The session in progress where `column` is the value given (a CP and a driver have one at most each). */
const inProgressBy = (name: string, column: typeof chargingSessions.cpId | typeof chargingSessions.driverId) =>
  statement(name, (db) =>
    db
      .select()
      .from(chargingSessions)
      .where(and(eq(column, sql.placeholder("value")), eq(chargingSessions.status, "IN_PROGRESS")))
      .limit(1),
  );
const inProgressAtCp = inProgressBy("central_session_in_progress_at_cp", chargingSessions.cpId);
const inProgressOfDriver = inProgressBy("central_session_in_progress_of_driver", chargingSessions.driverId);

const sessionById = statement("central_session_by_id", (db) =>
  db
    .select()
    .from(chargingSessions)
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId")))
    .limit(1),
);
const sessionLocked = statement("central_lock_session", (db) =>
  db
    .select()
    .from(chargingSessions)
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId")))
    .for("update"),
);
const sessionOpened = statement("central_open_session", (db) =>
  db
    .insert(chargingSessions)
    .values({
      sessionId: sql.placeholder("sessionId"),
      cpId: sql.placeholder("cpId"),
      driverId: sql.placeholder("driverId"),
      pricePerKwh: sql.placeholder("pricePerKwh"),
    })
    .returning(),
);
/** The driver's row, created when it is first seen (a request, a session a CP started); the upsert locks it. */
export const driverSeen = statement("central_driver_seen", (db) =>
  db
    .insert(drivers)
    .values({ driverId: sql.placeholder("driverId") })
    .onConflictDoUpdate({ target: drivers.driverId, set: { lastSeenAt: sql`now()` } }),
);
const driverCharging = statement("central_driver_charging", (db) =>
  db
    .update(drivers)
    .set({ status: "CHARGING", currentSessionId: filled("sessionId"), lastSeenAt: sql`now()` })
    .where(eq(drivers.driverId, sql.placeholder("driverId"))),
);
const driverIdle = statement("central_driver_idle", (db) =>
  db
    .update(drivers)
    .set({ status: "IDLE", currentSessionId: null, lastSeenAt: sql`now()` })
    .where(and(eq(drivers.driverId, sql.placeholder("driverId")), eq(drivers.currentSessionId, sql.placeholder("sessionId")))),
);
const endRequested = statement("central_session_end_requested", (db) =>
  db
    .update(chargingSessions)
    .set({ pendingEndReason: filled("reason"), awaitingUntil: null, updatedAt: sql`now()` })
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId"))),
);
/** A session closed with its ticket; `heldSeq` and `heldAt`: the newest reading held back from the row, if any (else null). */
const sessionFinished = statement("central_finish_session", (db) =>
  db
    .update(chargingSessions)
    .set({
      status: "FINISHED",
      energyKwh: filled("energyKwh"),
      costEur: filled("costEur"),
      powerKw: 0,
      endedAt: filled("endedAt"),
      endReason: filled("endReason"),
      pendingEndReason: null,
      awaitingUntil: null,
      lastTelemetrySeq: sql`coalesce(${sql.placeholder("heldSeq")}::bigint, ${chargingSessions.lastTelemetrySeq})`,
      lastReadingAt: sql`coalesce(${sql.placeholder("heldAt")}::timestamptz, ${chargingSessions.lastReadingAt})`,
      updatedAt: sql`now()`,
    })
    .where(eq(chargingSessions.sessionId, sql.placeholder("sessionId"))),
);

export const sessionInProgressAt = async (work: Work, cpId: string): Promise<SessionRow | undefined> => (await inProgressAtCp(work.tx, { value: cpId }))[0];
export const sessionInProgressOf = async (work: Work, driverId: string): Promise<SessionRow | undefined> =>
  (await inProgressOfDriver(work.tx, { value: driverId }))[0];

export async function findSession(work: Work, sessionId: string): Promise<SessionRow | undefined> {
  const [row] = await sessionById(work.tx, { sessionId });
  return row;
}

function newSessionId(): string {
  return `S-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Seals a command for the CP's engine; undefined when the CP has no working key. */
async function sealCommand(work: Work, cpId: string, command: StartSupply | StopSupply) {
  try {
    return await work.ctx.channel.sealForCp(cpId, command, work.tx);
  } catch (err) {
    if (err instanceof NoActiveKeyError) return undefined;
    throw err;
  }
}

/**
 * Opens a session at a locked, ACTIVE CP for a driver (whose row the caller upserted), tells the
 * engine to start and answers the driver. Undefined when the CP has no working key to be told with.
 */
export async function openSession(work: Work, cp: CpRow, driverId: string, requestId: string, keyId: string): Promise<Authorised | undefined> {
  const { ctx } = work;
  const sessionId = newSessionId();
  // Known to the engine and the driver only: the driver's stop reaches the engine directly.
  const stopToken = newStopToken();
  const start: StartSupply = { type: "start_supply", session_id: sessionId, driver_id: driverId, price_per_kwh: cp.pricePerKwh, stop_token: stopToken };
  const command = await sealCommand(work, cp.cpId, start);
  if (!command) return undefined;
  // The start timeout runs from when the command is published (work.ts, startWaits).
  const [[row], , weatherAlert] = await settled([
    sessionOpened(work.tx, { sessionId, cpId: cp.cpId, driverId, pricePerKwh: cp.pricePerKwh }),
    driverCharging(work.tx, { sessionId, driverId }).then(() => {}),
    isCityInAlert(work.tx, cp.location),
  ]);
  const cause = { reason: `session ${sessionId} started for driver ${driverId}`, actorType: "driver", actorId: driverId, weatherAlert } as const;
  await settleCp(work, cp, {}, cause, row);
  work.send(ctx.topics.cpCommands, command, { sessionId, awaits: "start" });
  const answer: Authorised = {
    type: "authorised",
    request_id: requestId,
    driver_id: driverId,
    cp_id: cp.cpId,
    session_id: sessionId,
    price_per_kwh: cp.pricePerKwh,
    stop_token: stopToken,
    at: nowIso(),
  };
  await tellDriver(work, answer, keyId);
  work.audit({
    eventType: "session",
    actorType: "driver",
    actorId: driverId,
    resource: cpResource(cp.cpId),
    action: "start_session",
    outcome: "success",
    details: { session_id: sessionId, request_id: requestId, price_per_kwh: cp.pricePerKwh },
  });
  const s = row!;
  work.afterCommit(() =>
    ctx.sessions.remember({ sessionId, cpId: cp.cpId, driverId, pricePerKwh: s.pricePerKwh, startedAt: s.startedAt, lastSeq: s.lastTelemetrySeq }),
  );
  return answer;
}

/**
 * A session the CP started by itself (a driver's card, perhaps while it was offline) is a fact:
 * it is recorded as it happened, whatever the CP's state now, and billed like any other. It is
 * refused (and the CP told to stop it) only when it cannot be one session among others: the CP
 * has another session in progress, or the driver has one elsewhere. A repeated report of the
 * same session changes nothing.
 */
export async function openLocalSession(work: Work, cp: CpRow, e: LocalSessionStarted): Promise<void> {
  const { ctx } = work;
  if (await findSession(work, e.session_id)) return;
  await driverSeen(work.tx, { driverId: e.driver_id });
  const busy = (await sessionInProgressAt(work, cp.cpId)) ?? (await sessionInProgressOf(work, e.driver_id));
  const audit = { eventType: "session", actorType: "cp", actorId: cp.cpId, resource: cpResource(cp.cpId), action: "start_session" } as const;
  if (busy) {
    work.audit({
      ...audit,
      outcome: "failure",
      reason: `session ${busy.sessionId} of driver ${busy.driverId} is in progress at ${busy.cpId}`,
      details: { session_id: e.session_id, driver_id: e.driver_id, local: true },
    });
    const stop = await sealCommand(work, cp.cpId, { type: "stop_supply", session_id: e.session_id, reason: "engine_refused" });
    if (stop) work.send(ctx.topics.cpCommands, stop);
    return;
  }
  const now = new Date();
  const reported = new Date(e.started_at);
  const startedAt = Number.isNaN(reported.getTime()) || reported > now ? now : reported;
  const [row] = await work.tx
    .insert(chargingSessions)
    .values({ sessionId: e.session_id, cpId: cp.cpId, driverId: e.driver_id, pricePerKwh: cp.pricePerKwh, startedAt, supplyStartedAt: startedAt })
    .returning();
  await driverCharging(work.tx, { sessionId: e.session_id, driverId: e.driver_id });
  const cause = { reason: `session ${e.session_id} started at the charger for driver ${e.driver_id}`, actorType: "cp", actorId: cp.cpId } as const;
  await settleCp(work, cp, {}, cause, row);
  work.audit({ ...audit, outcome: "success", details: { session_id: e.session_id, driver_id: e.driver_id, local: true, price_per_kwh: cp.pricePerKwh } });
  const s = row!;
  work.afterCommit(() =>
    ctx.sessions.remember({
      sessionId: s.sessionId,
      cpId: cp.cpId,
      driverId: s.driverId,
      pricePerKwh: s.pricePerKwh,
      startedAt: s.startedAt,
      lastSeq: s.lastTelemetrySeq,
    }),
  );
}

/**
 * Saves a locked CP's state with `session` in progress there (or none), and ends that session
 * when the new facts forbid supplying (fault, stop, revocation, lost connection).
 */
export async function settleCp(work: Work, cp: CpRow, change: FactChange, cause: Cause, session: SessionRow | undefined): Promise<Changed> {
  const changed = await saveCpState(work, cp, change, cause, session);
  if (session && changed.sessionMustEnd && !session.pendingEndReason) await requestSessionEnd(work, cp, session, changed.sessionMustEnd);
  return changed;
}

/**
 * Ends a session: asks the engine to stop and gives it a grace period, from when the stop is
 * published, to send its final reading (after it, a deadline probe closes the session with the
 * last reading: probes.ts). A revoked key cannot carry the request, so then the session closes
 * at once. `asked`: the driver's stop request this answers (and the key it came under), whose
 * answer goes sealed under that key. Returns what the driver is told: `stopping`, or the ticket
 * when the session closed at once.
 */
export async function requestSessionEnd(
  work: Work,
  cp: CpRow,
  session: SessionRow,
  reason: EndReason,
  asked?: { requestId: string; keyId: string },
): Promise<Stopping | TicketMessage | undefined> {
  const { ctx } = work;
  const command = reason === "key_revoked" ? undefined : await sealCommand(work, cp.cpId, { type: "stop_supply", session_id: session.sessionId, reason });
  if (!command) {
    const ticket = await closeSession(work, cp, session.sessionId, { reason });
    return ticket && { type: "ticket", ...ticket };
  }
  await endRequested(work.tx, { reason, sessionId: session.sessionId });
  session.pendingEndReason = reason;
  work.send(ctx.topics.cpCommands, command, { sessionId: session.sessionId, awaits: "end" });
  const stopping: Stopping = {
    type: "stopping",
    request_id: asked?.requestId,
    driver_id: session.driverId,
    cp_id: cp.cpId,
    session_id: session.sessionId,
    reason,
    at: nowIso(),
  };
  await tellDriver(work, stopping, asked?.keyId);
  return stopping;
}

export interface FinalReading {
  reason: EndReason;
  energyKwh?: number;
  endedAt?: Date;
}

/** A session's ticket, with the figures it ends (or ended) with. */
export function ticketOfRow(s: SessionRow, end: { energyKwh: number; endedAt: Date; endReason: EndReason }): Ticket {
  return ticketFor({ sessionId: s.sessionId, cpId: s.cpId, driverId: s.driverId, pricePerKwh: s.pricePerKwh, startedAt: s.startedAt, ...end });
}

/** The engine's end time when it is plausible (after the start, not in the future), else now. */
function endTime(startedAt: Date, reported?: Date | null): Date {
  const now = new Date();
  if (!reported || Number.isNaN(reported.getTime())) return now;
  if (reported < startedAt) return startedAt;
  return reported > now ? now : reported;
}

/**
 * Closes a session in progress at a locked CP with its final energy, sends the driver the ticket
 * and frees the CP. Without a final reading, the session ends with the last reading applied, at
 * the time the engine took it. Undefined when the session is not in progress (closed already).
 */
export async function closeSession(
  work: Work,
  cp: CpRow,
  sessionId: string,
  final: FinalReading,
  /** The session's row, locked already in this transaction (lockSession); else it is locked here. */
  locked?: { row: SessionRow | undefined },
): Promise<Ticket | undefined> {
  const { ctx } = work;
  const s = locked ? locked.row : await lockSession(work, sessionId);
  if (s?.status !== "IN_PROGRESS") return undefined;
  // A reading held back from the row (held-readings.ts) is the session's newest: the bill takes it.
  const held = ctx.held?.get(sessionId);
  const newest = held && held.cpId === s.cpId && held.seq > s.lastTelemetrySeq ? held : undefined;
  const lastReadingAt = newest ? new Date(newest.at) : s.lastReadingAt;
  const endReason = s.pendingEndReason ?? final.reason;
  const endedAt = endTime(s.startedAt, final.endedAt ?? lastReadingAt);
  const ticket = ticketOfRow(s, { energyKwh: finalEnergy(newest?.energyKwh ?? s.energyKwh, final.energyKwh), endedAt, endReason });
  // Independent statements, sent together (pipelined on the transaction's connection).
  const [, , weatherAlert] = await settled([
    sessionFinished(work.tx, {
      sessionId,
      energyKwh: ticket.energy_kwh,
      costEur: ticket.cost_eur,
      endedAt: endedAt.toISOString(),
      endReason,
      heldSeq: newest?.seq ?? null,
      heldAt: newest ? lastReadingAt!.toISOString() : null,
    }).then(() => {}),
    driverIdle(work.tx, { driverId: s.driverId, sessionId }).then(() => {}),
    isCityInAlert(work.tx, cp.location),
  ]);
  const message: TicketMessage = { type: "ticket", ...ticket };
  await tellDriver(work, message);
  work.audit({
    eventType: "session",
    actorType: "system",
    actorId: ctx.settings.instance,
    resource: cpResource(cp.cpId),
    action: "end_session",
    outcome: "success",
    reason: END_REASON_TEXT[endReason],
    details: { ...ticket },
  });
  work.afterCommit(() => {
    ctx.sessions.forget(sessionId);
    ctx.held?.written(sessionId, Number.MAX_SAFE_INTEGER); // closed: nothing of it waits any more
  });
  const cause = {
    reason: `session ${sessionId} ended (${END_REASON_TEXT[endReason]})`,
    actorType: "system",
    actorId: ctx.settings.instance,
    weatherAlert,
  } as const;
  await settleCp(work, cp, {}, cause, undefined); // the CP's one session in progress was this one
  return ticket;
}

/** Locks and reads a session's row. */
export async function lockSession(work: Work, sessionId: string): Promise<SessionRow | undefined> {
  const [row] = await sessionLocked(work.tx, { sessionId });
  return row;
}

/** Reasons Central gives a session it closes without the engine's word: the engine's own reason replaces them. */
const GUESSED_REASONS: readonly EndReason[] = ["engine_no_response", "supply_lost"];

/**
 * The engine's final reading for a session closed already (its deadline passed, or the CP was
 * found without it): the meter is the bill, so the ticket takes the reading's energy, cost and
 * end time, the driver gets it again marked as a correction, and the change is audited. Once: a
 * ticket corrected already stays as it is. Undefined when there is nothing to correct.
 */
export async function correctTicket(
  work: Work,
  cp: CpRow,
  sessionId: string,
  final: Required<FinalReading>,
  /** The session's row, locked already in this transaction (lockSession); else it is locked here. */
  locked?: { row: SessionRow | undefined },
): Promise<Ticket | undefined> {
  const s = locked ? locked.row : await lockSession(work, sessionId);
  if (!s || s.cpId !== cp.cpId || s.status !== "FINISHED" || !s.endedAt) return undefined;
  const energyKwh = finalEnergy(s.energyKwh, final.energyKwh);
  const endedAt = endTime(s.startedAt, final.endedAt);
  const closedReason = s.endReason ?? final.reason;
  const endReason = GUESSED_REASONS.includes(closedReason) ? final.reason : closedReason;
  if (energyKwh === s.energyKwh && Math.abs(endedAt.getTime() - s.endedAt.getTime()) < 1000 && endReason === closedReason) return undefined;
  const before = { energy_kwh: s.energyKwh, cost_eur: s.costEur, ended_at: s.endedAt.toISOString(), end_reason: closedReason };
  const outcome = s.correctedAt ? "failure" : "success";
  work.audit({
    eventType: "session",
    actorType: "cp",
    actorId: cp.cpId,
    resource: cpResource(cp.cpId),
    action: "correct_ticket",
    outcome,
    reason:
      outcome === "success"
        ? "the engine's final reading arrived after the session was closed: the ticket now bills it"
        : "another final reading arrived for a ticket corrected already; it stays as it is",
    details: { session_id: sessionId, before, reported: { energy_kwh: final.energyKwh, ended_at: final.endedAt.toISOString(), end_reason: final.reason } },
  });
  if (s.correctedAt) return undefined;
  const ticket = ticketOfRow(s, { energyKwh, endedAt, endReason });
  await work.tx
    .update(chargingSessions)
    .set({ energyKwh: ticket.energy_kwh, costEur: ticket.cost_eur, endedAt, endReason, correctedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(chargingSessions.sessionId, sessionId));
  const message: TicketMessage = { type: "ticket", ...ticket, corrected: true };
  await tellDriver(work, message);
  return ticket;
}
