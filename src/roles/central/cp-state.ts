/**
 * Saving a CP's state: change its facts, derive the state again (src/domain/cp-status.ts),
 * persist both, audit a change of state and tell the CP whether it is open to sessions it starts
 * by itself. The caller holds the CP's row lock and says which session is in progress there;
 * ending that session when the new facts forbid it is sessions.ts's part (`settleCp`), so this
 * module needs nothing of sessions.
 */
import { eq, sql } from "drizzle-orm";
import type { ActorType } from "../../audit/vocabulary.ts";
import { isCityInAlert } from "../../db/repos/weather.ts";
import { type CpRow, chargingPoints, type SessionRow } from "../../db/schema/index.ts";
import { filled, statement } from "../../db/statements.ts";
import type { CpState } from "../../domain/cp-state.ts";
import { availabilityAfter, type CpConditions, deriveStatus, sessionMustEnd } from "../../domain/cp-status.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { NoActiveKeyError } from "./channel.ts";
import type { Work } from "./work.ts";

/** The facts a caller may change (the session and the weather are read, not set). */
export type FactChange = Partial<Pick<CpConditions, "channel" | "connected" | "operatorStopped" | "engineFault">>;

export interface Cause {
  /** Why, for the audit entry and (for ACTIVE) the shown reason. */
  reason: string;
  actorType: ActorType;
  actorId?: string | null;
  /** Use this instead of reading city_weather: read already in the transaction, or fresher (the control message carrying an alert). */
  weatherAlert?: boolean;
}

export interface Changed {
  from: CpState;
  to: CpState;
  /** Why the session in progress must end under the new facts (fault, stop, revocation, lost connection). */
  sessionMustEnd?: ReturnType<typeof sessionMustEnd>;
}

function conditionsOf(row: CpRow): Omit<CpConditions, "supplying" | "weatherAlert"> {
  return {
    channel: row.channelState,
    connected: row.connected,
    operatorStopped: row.operatorStopped,
    engineFault: row.engineFault,
    keepsChargingOffline: row.keepsChargingOffline,
  };
}

/** A CP's facts and the state derived from them; the time of the change moves only when the state changed. */
const cpStateSaved = statement("central_save_cp_state", (db) =>
  db
    .update(chargingPoints)
    .set({
      channelState: filled("channel"),
      connected: filled("connected"),
      operatorStopped: filled("operatorStopped"),
      engineFault: filled("engineFault"),
      status: filled("status"),
      statusReason: filled("reason"),
      statusChangedAt: sql`case when ${sql.placeholder("changed")}::boolean then now() else ${chargingPoints.statusChangedAt} end`,
      updatedAt: sql`now()`,
    })
    .where(eq(chargingPoints.cpId, sql.placeholder("cpId"))),
);

/** Applies `change` to a locked CP with `session` in progress there (or none), and saves the state derived. */
export async function saveCpState(work: Work, cp: CpRow, change: FactChange, cause: Cause, session: SessionRow | undefined): Promise<Changed> {
  const facts = { ...conditionsOf(cp), ...change };
  const weatherAlert = cause.weatherAlert ?? (await isCityInAlert(work.tx, cp.location));
  const conditions: CpConditions = { ...facts, supplying: session !== undefined, weatherAlert };
  const derived = deriveStatus(conditions);
  const from = cp.status;
  const changed = derived.status !== from;
  const reason = derived.status === "ACTIVE" ? cause.reason : derived.reason;
  // The reason is written whether or not it changed: the same value when it did not.
  await cpStateSaved(work.tx, {
    cpId: cp.cpId,
    channel: facts.channel,
    connected: facts.connected,
    operatorStopped: facts.operatorStopped,
    engineFault: facts.engineFault,
    status: derived.status,
    reason,
    changed,
  });
  Object.assign(cp, {
    channelState: facts.channel,
    connected: facts.connected,
    operatorStopped: facts.operatorStopped,
    engineFault: facts.engineFault,
    status: derived.status,
    statusReason: reason,
  });
  if (changed)
    work.audit({
      eventType: "state_change",
      actorType: cause.actorType,
      actorId: cause.actorId ?? null,
      resource: cpResource(cp.cpId),
      action: "change_state",
      outcome: "success",
      reason: cause.reason,
      details: { from, to: derived.status, state_reason: derived.reason },
    });
  const available = changed ? availabilityAfter(derived.status, conditions) : undefined;
  if (available !== undefined) await tellAvailability(work, cp.cpId, available, derived.reason);
  return { from, to: derived.status, sessionMustEnd: session ? sessionMustEnd(conditions) : undefined };
}

/**
 * Tells the CP it is closed to new sessions, or open again. Central refuses drivers at a closed
 * CP anyway; this is for CPs that also start sessions by themselves (a card at the charger).
 * Without a working key there is nobody to tell: the CP learns its state when it authenticates.
 */
async function tellAvailability(work: Work, cpId: string, available: boolean, reason: string): Promise<void> {
  try {
    work.send(work.ctx.topics.cpCommands, await work.ctx.channel.sealForCp(cpId, { type: "set_availability", available, reason }, work.tx));
  } catch (err) {
    if (!(err instanceof NoActiveKeyError)) throw err;
  }
}
