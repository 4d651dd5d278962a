/**
 * Whether a driver's token (an RFID card's id tag at a charger) may start a charge: the one
 * place that decides it, so that how drivers are known can change without touching the
 * chargers' side. A token is the id of a driver account (registered, with a credential: a
 * driver id seen once without an account is not enough), which is at most 20 characters like
 * an OCPP 1.6 id tag; a driver charging elsewhere right now is refused a second session.
 */
import { and, eq, isNotNull } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chargingSessions, drivers } from "../db/schema/index.ts";
import { DRIVER_ID_PATTERN } from "./drivers.ts";

export type TokenVerdict = { status: "Accepted"; driverId: string } | { status: "Invalid" | "ConcurrentTx"; reason: string; driverId?: string };

export async function authorizeDriverToken(db: Db, token: string, atCpId: string): Promise<TokenVerdict> {
  if (!DRIVER_ID_PATTERN.test(token)) return { status: "Invalid", reason: "not a driver id" };
  const [driver] = await db
    .select({ driverId: drivers.driverId })
    .from(drivers)
    .where(and(eq(drivers.driverId, token), isNotNull(drivers.credentialHash)));
  if (!driver) return { status: "Invalid", reason: `no driver account ${token}` };
  const [busy] = await db
    .select({ cpId: chargingSessions.cpId })
    .from(chargingSessions)
    .where(and(eq(chargingSessions.driverId, token), eq(chargingSessions.status, "IN_PROGRESS")));
  if (busy && busy.cpId !== atCpId) return { status: "ConcurrentTx", reason: `driver ${token} is charging at ${busy.cpId}`, driverId: token };
  return { status: "Accepted", driverId: token };
}
