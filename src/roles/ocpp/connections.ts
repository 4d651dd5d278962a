/**
 * Where each OCPP charger is connected, in `ocpp_chargers`: set by the gateway that accepts its
 * socket, cleared by the same gateway when that socket (and not a newer one) closes. The
 * dashboard shows it; gateways read it to know a charger moved.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { ocppChargers } from "../../db/schema/index.ts";

/** Marks the charger online at this gateway; returns this connection's number. */
export async function markOnline(db: Db, cpId: string, gateway: string, subprotocol: string, remoteAddress?: string): Promise<number> {
  const [row] = await db
    .update(ocppChargers)
    .set({
      connection: "online",
      gateway,
      subprotocol,
      connectedAt: sql`now()`,
      remoteAddress: remoteAddress?.slice(0, 128) ?? null,
      connectionSeq: sql`${ocppChargers.connectionSeq} + 1`,
    })
    .where(eq(ocppChargers.cpId, cpId))
    .returning({ seq: ocppChargers.connectionSeq });
  return row?.seq ?? 0;
}

/** Marks the charger offline, unless a newer connection (here or at another gateway) took over. */
export async function markOffline(db: Db, cpId: string, connection: number): Promise<void> {
  await db
    .update(ocppChargers)
    .set({ connection: "offline", disconnectedAt: sql`now()` })
    .where(and(eq(ocppChargers.cpId, cpId), eq(ocppChargers.connectionSeq, connection)));
}

/** At start: chargers this gateway held before it stopped (or died) are not connected any more. */
export async function forgetConnectionsOf(db: Db, gateway: string): Promise<void> {
  await db
    .update(ocppChargers)
    .set({ connection: "offline", disconnectedAt: sql`now()` })
    .where(and(eq(ocppChargers.gateway, gateway), eq(ocppChargers.connection, "online")));
}
