/**
 * Session billing, pure: how energy is metered, what it costs and what the ticket says. The
 * engine (telemetry) and Central (ticket) both use these functions, so the ticket's figures are
 * exactly the ones the driver saw streaming in.
 */

/** A meter shows watt-hours: energy is kept to 3 decimals of a kWh. */
export function meterKwh(kwh: number): number {
  return Math.round(kwh * 1000) / 1000;
}

/** Cost in euros, to the cent, of a metered energy at a price per kWh. */
export function costOf(energyKwh: number, pricePerKwh: number): number {
  return Math.round(meterKwh(energyKwh) * pricePerKwh * 100) / 100;
}

/** Energy (kWh) a constant power (kW) delivers in a number of milliseconds. */
export function energyOver(powerKw: number, ms: number): number {
  return (powerKw * Math.max(0, ms)) / 3_600_000;
}

/** Why a session ended. */
export const END_REASONS = [
  "driver_stop",
  "unplugged",
  "max_duration",
  "fault",
  "disconnected",
  "operator_stop",
  "key_revoked",
  "engine_refused",
  "engine_no_response",
  "supply_lost",
  "unknown_session",
] as const;
export type EndReason = (typeof END_REASONS)[number];

export const END_REASON_TEXT: Record<EndReason, string> = {
  driver_stop: "stopped by the driver",
  unplugged: "the vehicle was unplugged",
  max_duration: "maximum charging duration reached",
  fault: "the charging point reported a fault",
  disconnected: "the charging point lost its connection",
  operator_stop: "stopped by the operator",
  key_revoked: "the charging point's key was revoked",
  engine_refused: "the charging point refused to start",
  engine_no_response: "the charging point did not answer",
  supply_lost: "the charging point no longer had the session (it restarted)",
  unknown_session: "the charging point supplied a session Central does not know",
};

export interface Ticket {
  session_id: string;
  cp_id: string;
  driver_id: string;
  energy_kwh: number;
  price_per_kwh: number;
  cost_eur: number;
  started_at: string;
  ended_at: string;
  duration_s: number;
  end_reason: EndReason;
}

export interface FinishedSession {
  sessionId: string;
  cpId: string;
  driverId: string;
  energyKwh: number;
  pricePerKwh: number;
  startedAt: Date;
  endedAt: Date;
  endReason: EndReason;
}

/** The ticket of a finished session: cost recomputed from the metered energy and the price. */
export function ticketFor(s: FinishedSession): Ticket {
  const energy = meterKwh(s.energyKwh);
  return {
    session_id: s.sessionId,
    cp_id: s.cpId,
    driver_id: s.driverId,
    energy_kwh: energy,
    price_per_kwh: s.pricePerKwh,
    cost_eur: costOf(energy, s.pricePerKwh),
    started_at: s.startedAt.toISOString(),
    ended_at: s.endedAt.toISOString(),
    duration_s: Math.max(0, Math.round((s.endedAt.getTime() - s.startedAt.getTime()) / 1000)),
    end_reason: s.endReason,
  };
}

/** The energy a session ends with: the engine's final reading, never less than what was already billed. */
export function finalEnergy(billedKwh: number, reportedKwh: number | undefined): number {
  if (reportedKwh === undefined || !Number.isFinite(reportedKwh)) return meterKwh(billedKwh);
  return meterKwh(Math.max(billedKwh, reportedKwh));
}
