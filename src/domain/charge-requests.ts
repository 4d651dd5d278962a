/**
 * Whether Central serves a driver's request, pure. Every refusal has a stable code (what the
 * driver's app can act on) and a reason (what the driver reads); both are audited.
 */
import { type CpState, refusalFor } from "./cp-state.ts";

export type RefusalCode =
  | "unknown_cp"
  | "cp_busy"
  | "cp_stopped"
  | "cp_out_of_service"
  | "cp_broken"
  | "cp_disconnected"
  | "driver_busy"
  | "no_session"
  | "not_your_session"
  | "invalid_request"
  | "expired";

export interface Refusal {
  code: RefusalCode;
  reason: string;
}

export interface ChargeContext {
  cpId: string;
  /** The CP as registered; undefined when there is no such (registered) CP. */
  cp?: { status: CpState };
  /** The session the driver already has in progress, anywhere. */
  driverSession?: { sessionId: string; cpId: string };
}

/** A charge is served only at a registered, ACTIVE CP, to a driver who is not already charging. */
export function decideCharge(ctx: ChargeContext): Refusal | undefined {
  if (!ctx.cp) return { code: "unknown_cp", reason: `there is no charging point ${ctx.cpId}` };
  if (ctx.driverSession)
    return {
      code: "driver_busy",
      reason: `you are already charging at ${ctx.driverSession.cpId} (session ${ctx.driverSession.sessionId}); stop it first`,
    };
  const refusal = refusalFor(ctx.cp.status);
  return refusal ? { code: refusal.code as RefusalCode, reason: refusal.reason } : undefined;
}

export interface StopContext {
  driverId: string;
  cpId: string;
  /** The session the stop names (or the driver's session at the CP when it names none). */
  session?: { sessionId: string; driverId: string; cpId: string };
}

/** A driver may stop only a session of their own. */
export function decideStop(ctx: StopContext): Refusal | undefined {
  if (!ctx.session) return { code: "no_session", reason: `you have no charging session at ${ctx.cpId}` };
  if (ctx.session.driverId !== ctx.driverId) return { code: "not_your_session", reason: `session ${ctx.session.sessionId} is not yours` };
  return undefined;
}
