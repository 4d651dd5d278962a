/** Drivers as the API shows them: their state, their session in progress and their totals. */
import { asc, desc, eq, sql } from "drizzle-orm";
import type { Db } from "../../../db/client.ts";
import { chargingSessions, type DriverRow, drivers } from "../../../db/schema/index.ts";
import type { DriverView, SessionView } from "../shapes.ts";
import { inProgressRows, toSessionView } from "./sessions.ts";
import { iso } from "./time.ts";

interface Totals {
  sessions: number;
  energy: number;
  cost: number;
}

function toDriverView(row: DriverRow, totals: Totals | undefined, session: SessionView | undefined): DriverView {
  return {
    driver_id: row.driverId,
    status: row.status,
    current_session_id: row.currentSessionId,
    created_at: iso(row.createdAt),
    last_seen_at: iso(row.lastSeenAt),
    sessions_count: totals?.sessions ?? 0,
    energy_kwh_total: totals?.energy ?? 0,
    cost_eur_total: totals?.cost ?? 0,
    session: session ?? null,
  };
}

async function totalsByDriver(db: Db, driverId?: string): Promise<Map<string, Totals>> {
  const rows = await db
    .select({
      driverId: chargingSessions.driverId,
      sessions: sql<string>`count(*)`,
      energy: sql<string>`coalesce(sum(${chargingSessions.energyKwh}), 0)`,
      cost: sql<string>`coalesce(sum(${chargingSessions.costEur}), 0)`,
    })
    .from(chargingSessions)
    .where(driverId ? eq(chargingSessions.driverId, driverId) : undefined)
    .groupBy(chargingSessions.driverId);
  // Sums of floats: shown to the Wh and the cent, as a ticket would.
  const round = (n: string, places: number) => Math.round(Number(n) * 10 ** places) / 10 ** places;
  return new Map(rows.map((r) => [r.driverId, { sessions: Number(r.sessions), energy: round(r.energy, 3), cost: round(r.cost, 2) }]));
}

async function views(db: Db, rows: DriverRow[], driverId?: string): Promise<DriverView[]> {
  if (rows.length === 0) return [];
  const [totals, sessionRows] = await Promise.all([totalsByDriver(db, driverId), inProgressRows(db)]);
  const now = new Date();
  const byDriver = new Map(sessionRows.map((s) => [s.driverId, { row: s, view: toSessionView(db, s, now) }]));
  return rows.map((r) => {
    const session = byDriver.get(r.driverId);
    const total = totals.get(r.driverId);
    // A session whose row waits (CENTRAL_READINGS_INTERVAL) counts with the live figures shown for it.
    const withLive = total &&
      session && {
        ...total,
        energy: Math.round((total.energy + session.view.energy_kwh - session.row.energyKwh) * 1000) / 1000,
        cost: Math.round((total.cost + session.view.cost_eur - session.row.costEur) * 100) / 100,
      };
    return toDriverView(r, withLive || total, session?.view);
  });
}

/** Ordered by driver id. */
export async function listDrivers(db: Db): Promise<DriverView[]> {
  return views(db, await db.select().from(drivers).orderBy(asc(drivers.driverId)));
}

/** The drivers worth showing first: charging or waiting, then the most recently seen. */
export async function recentDrivers(db: Db, limit: number): Promise<DriverView[]> {
  const rows = await db.select().from(drivers).orderBy(sql`${drivers.status} = 'IDLE'`, desc(drivers.lastSeenAt), asc(drivers.driverId)).limit(limit);
  return views(db, rows);
}

export async function findDriver(db: Db, driverId: string): Promise<DriverView | undefined> {
  const rows = await db.select().from(drivers).where(eq(drivers.driverId, driverId)).limit(1);
  return (await views(db, rows, driverId))[0];
}
