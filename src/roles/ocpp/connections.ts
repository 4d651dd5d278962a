/**
 * Where each OCPP charger is connected, in `ocpp_chargers`: set by the gateway that accepts its
 * socket, cleared by the same gateway when that socket (and not a newer one) closes. The
 * dashboard shows it; gateways read it to know a charger moved.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { ocppChargers } from "../../db/schema/index.ts";

/** Marks the charger online at this gateway; returns this connection's number. */
async function markOnline(db: Db, cpId: string, gateway: string, subprotocol: string, remoteAddress?: string): Promise<number> {
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
async function markOffline(db: Db, cpId: string, connection: number): Promise<void> {
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

export interface ConnectionWrites {
  online(cpId: string, subprotocol: string, remoteAddress?: string): Promise<number>;
  offline(cpId: string, connection: number): Promise<void>;
}

/**
 * One gateway's writes of its chargers' connections, each charger's in the order its sockets
 * opened and closed. Sent at once, two writes of one charger could reach PostgreSQL the other
 * way round (on two connections of the pool): a newer socket would then be given an older
 * number than the socket it replaced, and that older socket's close would mark the live
 * charger offline.
 */
export class ConnectionRecords {
  private turns = new Map<string, Promise<void>>();
  private writes: ConnectionWrites;

  constructor(db: Db, gateway: string, writes?: ConnectionWrites) {
    this.writes = writes ?? {
      online: (cpId, subprotocol, remoteAddress) => markOnline(db, cpId, gateway, subprotocol, remoteAddress),
      offline: (cpId, connection) => markOffline(db, cpId, connection),
    };
  }

  /** A socket of the charger opened: resolves to its connection number. */
  opened(cpId: string, subprotocol: string, remoteAddress?: string): Promise<number> {
    return this.inTurn(cpId, () => this.writes.online(cpId, subprotocol, remoteAddress));
  }

  /** The socket numbered `connection` (once it is known) closed: offline unless a newer one took over. */
  closed(cpId: string, connection: number | Promise<number>): Promise<void> {
    return this.inTurn(cpId, async () => this.writes.offline(cpId, await connection));
  }

  private inTurn<T>(cpId: string, write: () => Promise<T>): Promise<T> {
    const result = (this.turns.get(cpId) ?? Promise.resolve()).then(write);
    const turn = result.then(
      () => undefined,
      () => undefined,
    );
    this.turns.set(cpId, turn);
    void turn.then(() => {
      if (this.turns.get(cpId) === turn) this.turns.delete(cpId);
    });
    return result;
  }
}
