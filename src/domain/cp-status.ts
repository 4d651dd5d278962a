/**
 * A charging point's state, derived from the facts Central knows about it rather than moved
 * step by step: whatever order the facts change in (a fault during a frost alert, a revocation
 * while supplying, a lost heartbeat of a stopped CP), the state is the same function of them.
 *
 * Precedence, first match wins: revoked key -> STOPPED; not authenticated or silent ->
 * DISCONNECTED; operator stop -> STOPPED; engine fault -> BROKEN; session in progress ->
 * SUPPLYING; frost alert in its city -> OUT_OF_SERVICE; otherwise ACTIVE. So a supplying CP in
 * a city that freezes finishes its session and only then goes OUT_OF_SERVICE, and a CP that
 * comes back (resumed, repaired, reconnected) in a frozen city goes OUT_OF_SERVICE, not ACTIVE.
 */
import type { CpState } from "./cp-state.ts";
import { stateWhenAvailable, WEATHER_ALERT_REASON } from "./weather-policy.ts";

/** none: never authenticated; active: holds a working key; revoked: its key was revoked. */
export type ChannelState = "none" | "active" | "revoked";

export interface CpConditions {
  channel: ChannelState;
  /** Its monitor's heartbeats arrive (false after 3 missed intervals). */
  connected: boolean;
  operatorStopped: boolean;
  engineFault: boolean;
  /** A session is in progress (including one that is being ended). */
  supplying: boolean;
  /** Its city is under a frost alert. */
  weatherAlert: boolean;
  /** It goes on charging while disconnected (an OCPP charger): a silence does not end its session. */
  keepsChargingOffline?: boolean;
}

export interface DerivedStatus {
  status: CpState;
  /** Why, in words an operator reads on the dashboard. */
  reason: string;
}

/** An OCPP charger has no monitor: its gateway speaks for it while its socket is open. */
const OFFLINE_OCPP_REASON = "not connected: no word from it through a gateway for 3 intervals (it may go on charging)";

export function deriveStatus(c: CpConditions): DerivedStatus {
  if (c.channel === "revoked") return { status: "STOPPED", reason: "key revoked: waiting for the monitor to authenticate again" };
  if (c.channel === "none") return { status: "DISCONNECTED", reason: "not authenticated yet" };
  if (!c.connected) return { status: "DISCONNECTED", reason: c.keepsChargingOffline ? OFFLINE_OCPP_REASON : "no heartbeat from its monitor for 3 intervals" };
  if (c.operatorStopped) return { status: "STOPPED", reason: "stopped by the operator" };
  if (c.engineFault) return { status: "BROKEN", reason: "its monitor reports an engine fault" };
  if (c.supplying) return { status: "SUPPLYING", reason: "a charging session is in progress" };
  const available = stateWhenAvailable(c.weatherAlert);
  return available === "OUT_OF_SERVICE" ? { status: available, reason: WEATHER_ALERT_REASON } : { status: "ACTIVE", reason: "available" };
}

/** Whether a session in progress must end because of the CP's state (the weather never ends one). */
export function sessionMustEnd(c: CpConditions): "key_revoked" | "disconnected" | "operator_stop" | "fault" | undefined {
  if (c.channel === "revoked") return "key_revoked";
  if (c.channel === "none") return "disconnected";
  if (!c.connected && !c.keepsChargingOffline) return "disconnected";
  if (c.operatorStopped) return "operator_stop";
  if (c.engineFault) return "fault";
  return undefined;
}

/**
 * After a change to this state, whether the CP is open to new sessions it starts by itself (a
 * card at an OCPP charger): closed by an operator's stop or a frost alert, open once available.
 * Undefined: the state says nothing about it (a fault, a lost connection, a session).
 */
export function availabilityAfter(status: CpState, c: Pick<CpConditions, "operatorStopped" | "weatherAlert">): boolean | undefined {
  if (status !== "ACTIVE" && status !== "OUT_OF_SERVICE" && status !== "STOPPED") return undefined;
  return !(c.operatorStopped || c.weatherAlert);
}
