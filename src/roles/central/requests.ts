/**
 * Drivers' requests (topics.driverRequests, sealed with the driver's key, keyed by CP id). Each
 * is decided once and remembered by its request id, so a driver that asks again (it did not hear
 * the answer) gets the same answer instead of a second session, and a copy of a request already
 * decided changes nothing. Every refusal is answered with its reason and audited. Answers go
 * sealed under the key the request came with (`keyId`).
 */
import { eq, sql } from "drizzle-orm";
import type { ChargeRequest, DriverUpdate, Refused, Stopping, StopRequest, TicketMessage } from "../../bus/messages.ts";
import { nowIso } from "../../bus/messages.ts";
import { type DriverRequestRow, driverRequests, type SessionRow } from "../../db/schema/index.ts";
import { statement } from "../../db/statements.ts";
import { ticketFor } from "../../domain/billing.ts";
import { decideCharge, decideStop, type Refusal } from "../../domain/charge-requests.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { settled } from "../../lib/settled.ts";
import { lockCp } from "./cp-records.ts";
import { tellDriver } from "./driver-updates.ts";
import { driverSeen, findSession, openSession, requestSessionEnd, sessionInProgressAt, sessionInProgressOf } from "./sessions.ts";
import type { Work } from "./work.ts";

type Request = ChargeRequest | StopRequest;

// Every request's statements, built once (src/db/statements.ts).
const requestRemembered = statement("central_remember_request", (db) =>
  db
    .insert(driverRequests)
    .values({
      requestId: sql.placeholder("requestId"),
      kind: sql.placeholder("kind"),
      driverId: sql.placeholder("driverId"),
      cpId: sql.placeholder("cpId"),
      outcome: sql.placeholder("outcome"),
      code: sql.placeholder("code"),
      reason: sql.placeholder("reason"),
      sessionId: sql.placeholder("sessionId"),
      answer: sql.placeholder("answer"),
    })
    .onConflictDoNothing(),
);
const decisionById = statement("central_request_decision", (db) =>
  db
    .select({ answer: driverRequests.answer, outcome: driverRequests.outcome, sessionId: driverRequests.sessionId })
    .from(driverRequests)
    .where(eq(driverRequests.requestId, sql.placeholder("requestId"))),
);

async function remember(
  work: Work,
  r: Request,
  outcome: DriverRequestRow["outcome"],
  value: string,
  extra: { code?: string; reason?: string; sessionId?: string } = {},
) {
  await requestRemembered(work.tx, {
    requestId: r.request_id,
    kind: r.type === "charge_request" ? "charge" : "stop",
    driverId: r.driver_id,
    cpId: r.cp_id,
    outcome,
    code: extra.code ?? null,
    reason: extra.reason ?? null,
    sessionId: extra.sessionId ?? null,
    answer: value,
  });
}

/** Answers a refusal, remembers and audits it. */
export async function refuse(work: Work, r: Request, refusal: Refusal, keyId: string): Promise<void> {
  const message: Refused = {
    type: "refused",
    request_id: r.request_id,
    driver_id: r.driver_id,
    cp_id: r.cp_id,
    code: refusal.code,
    reason: refusal.reason,
    at: nowIso(),
  };
  const value = await tellDriver(work, message, keyId);
  await remember(work, r, "refused", value, refusal);
  work.audit({
    eventType: "request",
    actorType: "driver",
    actorId: r.driver_id,
    resource: cpResource(r.cp_id),
    action: r.type === "charge_request" ? "request_charge" : "request_stop",
    outcome: "failure",
    reason: `${refusal.code}: ${refusal.reason}`,
    details: { request_id: r.request_id, session_id: r.type === "stop_request" ? r.session_id : undefined },
  });
}

/** The answer already given to this request id, if any. */
async function previousAnswer(work: Work, requestId: string): Promise<string | undefined> {
  return (await previousDecision(work, requestId))?.answer;
}

async function previousDecision(work: Work, requestId: string) {
  const [row] = await decisionById(work.tx, { requestId });
  return row;
}

function expired(work: Work, r: Request): boolean {
  const age = (Date.now() - Date.parse(r.at)) / 1000;
  return age > work.ctx.settings.requestMaxAgeS;
}

/** Sends a charge request's remembered answer again. */
async function answerAgain(work: Work, r: ChargeRequest, again: string, keyId: string): Promise<void> {
  const update = JSON.parse(again) as DriverUpdate;
  // Only the driver who asked hears it again (request ids are the driver's own).
  if (update.driver_id === r.driver_id) await tellDriver(work, update, keyId);
}

export async function handleChargeRequest(work: Work, r: ChargeRequest, keyId: string): Promise<void> {
  if (expired(work, r)) {
    // Too old to decide now: answered again if it was decided before, else refused; nothing is locked for it.
    const again = await previousAnswer(work, r.request_id);
    if (again !== undefined) return answerAgain(work, r, again, keyId);
    return refuse(work, r, { code: "expired", reason: "the request is too old; ask again" }, keyId);
  }
  // Sent together (pipelined on the transaction's connection, run in this order, so locks are
  // taken CP first, then driver): the answer given before, if any; the CP's row lock; the
  // driver's row, upserted, which locks it (two requests of one driver at two CPs are decided one
  // after the other); the driver's session in progress. A request decided before only hears its
  // answer again.
  const [again, cp, , busy] = await settled([
    previousAnswer(work, r.request_id),
    lockCp(work, r.cp_id),
    driverSeen(work.tx, { driverId: r.driver_id }).then(() => {}),
    sessionInProgressOf(work, r.driver_id),
  ]);
  if (again !== undefined) return answerAgain(work, r, again, keyId);
  const refusal = decideCharge({
    cpId: r.cp_id,
    cp: cp ? { status: cp.status } : undefined,
    driverSession: busy ? { sessionId: busy.sessionId, cpId: busy.cpId } : undefined,
  });
  if (refusal || !cp) return refuse(work, r, refusal ?? { code: "unknown_cp", reason: `there is no charging point ${r.cp_id}` }, keyId);
  const authorised = await openSession(work, cp, r.driver_id, r.request_id, keyId);
  if (!authorised) return refuse(work, r, { code: "cp_disconnected", reason: "the charging point has no working key (not authenticated)" }, keyId);
  await remember(work, r, "authorised", JSON.stringify(authorised), { sessionId: authorised.session_id });
}

function ticketOf(s: SessionRow): TicketMessage {
  return {
    type: "ticket",
    ...ticketFor({
      sessionId: s.sessionId,
      cpId: s.cpId,
      driverId: s.driverId,
      energyKwh: s.energyKwh,
      pricePerKwh: s.pricePerKwh,
      startedAt: s.startedAt,
      endedAt: s.endedAt ?? new Date(),
      endReason: s.endReason ?? "driver_stop",
    }),
    ...(s.correctedAt ? { corrected: true } : {}),
  };
}

/**
 * A stop is idempotent by nature: a session in progress is asked to end, one already ending
 * is reported as ending, one already closed gets its ticket again (the driver missed it). A
 * stop request sent again (the driver did not hear the answer) is decided and audited once:
 * it gets the answer given before, or the ticket if the session has closed since.
 */
export async function handleStopRequest(work: Work, r: StopRequest, keyId: string): Promise<void> {
  // Read together (pipelined): the decision taken before, if any, and the session the request names.
  const [before, named] = await settled([previousDecision(work, r.request_id), r.session_id ? findSession(work, r.session_id) : Promise.resolve(undefined)]);
  if (before) {
    const closed = before.outcome !== "refused" && before.sessionId ? await findSession(work, before.sessionId) : undefined;
    const update = closed && closed.status !== "IN_PROGRESS" ? ticketOf(closed) : (JSON.parse(before.answer) as DriverUpdate);
    // Only the driver who asked hears it again (request ids are the driver's own).
    if (update.driver_id === r.driver_id) await tellDriver(work, update, keyId);
    return;
  }
  if (expired(work, r)) return refuse(work, r, { code: "expired", reason: "the request is too old; ask again" }, keyId);
  const cpId = named?.cpId ?? r.cp_id;
  // The CP's row lock, then the session as it is under that lock (pipelined: run in this order).
  const [cp, found] = await settled([lockCp(work, cpId), r.session_id ? findSession(work, r.session_id) : sessionInProgressAt(work, cpId)]);
  const session = r.session_id || cp ? found : undefined;
  const refusal = decideStop({ driverId: r.driver_id, cpId, session });
  if (refusal || !session) return refuse(work, r, refusal ?? { code: "no_session", reason: `you have no charging session at ${cpId}` }, keyId);
  if (session.status !== "IN_PROGRESS") {
    const value = await tellDriver(work, ticketOf(session), keyId);
    await remember(work, r, "ticket", value, { sessionId: session.sessionId });
    return;
  }
  if (!cp) return refuse(work, r, { code: "unknown_cp", reason: `there is no charging point ${cpId}` }, keyId);
  work.audit({
    eventType: "request",
    actorType: "driver",
    actorId: r.driver_id,
    resource: cpResource(cpId),
    action: "request_stop",
    outcome: "success",
    details: { request_id: r.request_id, session_id: session.sessionId },
  });
  if (session.pendingEndReason) {
    const stopping: Stopping = {
      type: "stopping",
      request_id: r.request_id,
      driver_id: r.driver_id,
      cp_id: cpId,
      session_id: session.sessionId,
      reason: session.pendingEndReason,
      at: nowIso(),
    };
    await remember(work, r, "stopping", await tellDriver(work, stopping, keyId), { sessionId: session.sessionId });
    return;
  }
  const ended = await requestSessionEnd(work, cp, session, "driver_stop", { requestId: r.request_id, keyId });
  await remember(work, r, ended?.type === "ticket" ? "ticket" : "stopping", JSON.stringify(ended ?? {}), { sessionId: session.sessionId });
}
