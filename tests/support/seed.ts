/** Rows as Central writes them, for tests that read them back through the API. */
import { eq } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";
import { auditEvents, chargingPoints, chargingSessions, cityWeather, drivers } from "../../src/db/schema/index.ts";
import type { EndReason } from "../../src/domain/billing.ts";
import type { CpState } from "../../src/domain/cp-state.ts";
import type { DriverState } from "../../src/domain/session-state.ts";

export async function seedChargingPoint(db: Db, cp: Partial<typeof chargingPoints.$inferInsert> & { cpId: string }) {
  await db.insert(chargingPoints).values({ location: "Madrid", pricePerKwh: 0.3, status: "ACTIVE", ...cp });
}

export async function seedDriver(db: Db, driverId: string, status: DriverState = "IDLE") {
  await db.insert(drivers).values({ driverId, status });
}

export async function seedSession(db: Db, s: Partial<typeof chargingSessions.$inferInsert> & { sessionId: string; cpId: string; driverId: string }) {
  await db.insert(chargingSessions).values({ pricePerKwh: 0.3, ...s });
}

export async function seedWeather(db: Db, city: string, temperatureC: number, alert = temperatureC < 0) {
  await db.insert(cityWeather).values({ city, temperatureC, alert, alertSince: alert ? new Date() : null });
}

export async function seedAudit(db: Db, e: Partial<typeof auditEvents.$inferInsert> = {}) {
  await db.insert(auditEvents).values({ eventType: "state_change", actorType: "system", action: "set_state", outcome: "success", ...e });
}

/** Telemetry as Central applies it: the session's figures and its updated_at move together. */
export async function applyTelemetry(db: Db, sessionId: string, f: { powerKw: number; energyKwh: number; costEur: number }) {
  await db
    .update(chargingSessions)
    .set({ ...f, updatedAt: new Date() })
    .where(eq(chargingSessions.sessionId, sessionId));
}

export async function setCpState(db: Db, cpId: string, status: CpState, reason: string | null = null) {
  const now = new Date();
  await db.update(chargingPoints).set({ status, statusReason: reason, statusChangedAt: now, updatedAt: now }).where(eq(chargingPoints.cpId, cpId));
}

export async function finishSession(db: Db, sessionId: string, endReason: EndReason = "driver_stop") {
  const now = new Date();
  await db.update(chargingSessions).set({ status: "FINISHED", endedAt: now, updatedAt: now, endReason }).where(eq(chargingSessions.sessionId, sessionId));
}
