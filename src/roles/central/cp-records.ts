/**
 * Changing a CP's state: lock its row, change the facts, derive the state again
 * (src/domain/cp-status.ts), persist and audit the change, and end a session in progress that
 * the new facts do not allow. Every CP state change in Central goes through `changeCp`, under
 * the CP's row lock, so two Central instances (or a consumer and the sweeper) never interleave
 * on one CP. Lock order everywhere: CP, then session, then driver.
 */
import { eq, sql } from "drizzle-orm";
import type { ActorType } from "../../audit/audit.ts";
import { isCityInAlert } from "../../db/repos/weather.ts";
import { type CpRow, chargingPoints } from "../../db/schema/index.ts";
import type { CpState } from "../../domain/cp-state.ts";
import { availabilityAfter, type CpConditions, deriveStatus, sessionMustEnd } from "../../domain/cp-status.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { NoActiveKeyError } from "./channel.ts";
import { requestSessionEnd, sessionInProgressAt } from "./sessions.ts";
import type { Work } from "./work.ts";

/** The facts a caller may change (the session and the weather are read, not set). */
export type FactChange = Partial<Pick<CpConditions, "channel" | "connected" | "operatorStopped" | "engineFault">>;

export interface Cause {
  /** Why, for the audit entry and (for ACTIVE) the shown reason. */
  reason: string;
  actorType: ActorType;
  actorId?: string | null;
  /** Use this instead of reading city_weather (the control message carrying the alert is fresher). */
  weatherAlert?: boolean;
}

/** Locks and reads a registered CP (undefined: unknown or deregistered). */
export async function lockCp(work: Work, cpId: string): Promise<CpRow | undefined> {
  const [row] = await work.tx.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId)).for("update");
  return row && row.deregisteredAt === null ? row : undefined;
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

export interface Changed {
  from: CpState;
  to: CpState;
}

/**
 * Applies `change` to a locked CP and re-derives its state. Ends the CP's session in progress
 * when the new facts forbid supplying (fault, stop, revocation, lost connection).
 */
export async function changeCp(work: Work, cp: CpRow, change: FactChange, cause: Cause): Promise<Changed> {
  const facts = { ...conditionsOf(cp), ...change };
  const session = await sessionInProgressAt(work, cp.cpId);
  const weatherAlert = cause.weatherAlert ?? (await isCityInAlert(work.tx, cp.location));
  const conditions: CpConditions = { ...facts, supplying: session !== undefined, weatherAlert };
  const mustEnd = session ? sessionMustEnd(conditions) : undefined;
  const derived = deriveStatus(conditions);
  const from = cp.status;
  const changed = derived.status !== from;
  const reason = derived.status === "ACTIVE" ? cause.reason : derived.reason;
  await work.tx
    .update(chargingPoints)
    .set({
      channelState: facts.channel,
      connected: facts.connected,
      operatorStopped: facts.operatorStopped,
      engineFault: facts.engineFault,
      status: derived.status,
      ...(changed || cp.statusReason !== reason ? { statusReason: reason } : {}),
      ...(changed ? { statusChangedAt: sql`now()` } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(chargingPoints.cpId, cp.cpId));
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
  if (session && mustEnd && !session.pendingEndReason) await requestSessionEnd(work, cp, session, mustEnd);
  return { from, to: derived.status };
}

/**
 * Tells the CP it is closed to new sessions, or open again. Central refuses drivers at a closed
 * CP anyway; this is for CPs that also start sessions by themselves (a card at the charger).
 * Without a working key there is nobody to tell: the CP learns its state when it authenticates.
 */
async function tellAvailability(work: Work, cpId: string, available: boolean, reason: string): Promise<void> {
  try {
    work.send(work.ctx.topics.cpCommands, await work.ctx.channel.sealForCp(cpId, { type: "set_availability", available, reason }));
  } catch (err) {
    if (!(err instanceof NoActiveKeyError)) throw err;
  }
}

/** Re-derives a CP's state after its session changed (opened or closed). */
export async function refreshCp(work: Work, cp: CpRow, cause: Cause): Promise<Changed> {
  return changeCp(work, cp, {}, cause);
}
