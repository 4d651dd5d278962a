/**
 * Whether a driver's token (an RFID card's id tag at a charger) may start a charge: the one
 * place that decides it, so that how drivers are known can change without touching the
 * chargers' side. Today a token is a driver id Central knows (a driver who has used evnet);
 * a driver charging elsewhere right now is refused a second session.
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chargingSessions, drivers } from "../db/schema/index.ts";
import { isId } from "../domain/ids.ts";

export type TokenVerdict = { status: "Accepted"; driverId: string } | { status: "Invalid" | "ConcurrentTx"; reason: string; driverId?: string };

export async function authorizeDriverToken(db: Db, token: string, atCpId: string): Promise<TokenVerdict> {
  if (!isId(token)) return { status: "Invalid", reason: "not a driver id" };
  const [driver] = await db.select({ driverId: drivers.driverId }).from(drivers).where(eq(drivers.driverId, token));
  if (!driver) return { status: "Invalid", reason: `no driver ${token} is known` };
  const [busy] = await db
    .select({ cpId: chargingSessions.cpId })
    .from(chargingSessions)
    .where(and(eq(chargingSessions.driverId, token), eq(chargingSessions.status, "IN_PROGRESS")));
  if (busy && busy.cpId !== atCpId) return { status: "ConcurrentTx", reason: `driver ${token} is charging at ${busy.cpId}`, driverId: token };
  return { status: "Accepted", driverId: token };
}
