/** Charging sessions as the API shows them: in progress and history, with filters and paging. */
import { and, count, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { Db } from "../../../db/client.ts";
import { chargingSessions } from "../../../db/schema/index.ts";
import type { SessionView } from "../shapes.ts";
import { iso, isoOrNull } from "./time.ts";

type SessionRow = typeof chargingSessions.$inferSelect;

export function toSessionView(row: SessionRow, now: Date = new Date()): SessionView {
  const end = row.endedAt ?? now;
  return {
    session_id: row.sessionId,
    cp_id: row.cpId,
    driver_id: row.driverId,
    status: row.status,
    price_per_kwh: row.pricePerKwh,
    power_kw: row.powerKw,
    energy_kwh: row.energyKwh,
    cost_eur: row.costEur,
    started_at: iso(row.startedAt),
    updated_at: iso(row.updatedAt),
    ended_at: isoOrNull(row.endedAt),
    end_reason: row.endReason,
    duration_s: Math.max(0, Math.round((end.getTime() - row.startedAt.getTime()) / 1000)),
  };
}

export interface SessionFilter {
  status?: "IN_PROGRESS" | "FINISHED";
  cpId?: string;
  driverId?: string;
  limit: number;
  offset: number;
}

function whereOf(f: Omit<SessionFilter, "limit" | "offset">): SQL | undefined {
  const conditions: SQL[] = [];
  if (f.status) conditions.push(eq(chargingSessions.status, f.status));
  if (f.cpId) conditions.push(eq(chargingSessions.cpId, f.cpId));
  if (f.driverId) conditions.push(eq(chargingSessions.driverId, f.driverId));
  return conditions.length ? and(...conditions) : undefined;
}

/** Newest first. */
export async function listSessions(db: Db, f: SessionFilter): Promise<{ sessions: SessionView[]; total: number }> {
  const where = whereOf(f);
  const [rows, totals] = await Promise.all([
    db.select().from(chargingSessions).where(where).orderBy(desc(chargingSessions.startedAt), desc(chargingSessions.sessionId)).limit(f.limit).offset(f.offset),
    db.select({ n: count() }).from(chargingSessions).where(where),
  ]);
  const now = new Date();
  return { sessions: rows.map((r) => toSessionView(r, now)), total: Number(totals[0]?.n ?? 0) };
}

export async function findSession(db: Db, sessionId: string): Promise<SessionView | undefined> {
  const [row] = await db.select().from(chargingSessions).where(eq(chargingSessions.sessionId, sessionId)).limit(1);
  return row ? toSessionView(row) : undefined;
}

/** Sessions in progress, keyed by CP id (a CP has at most one). */
export async function sessionsInProgress(db: Db, cpIds?: string[]): Promise<SessionView[]> {
  const inProgress = eq(chargingSessions.status, "IN_PROGRESS");
  const where = cpIds ? and(inProgress, inArray(chargingSessions.cpId, cpIds)) : inProgress;
  const rows = await db.select().from(chargingSessions).where(where).orderBy(desc(chargingSessions.startedAt));
  const now = new Date();
  return rows.map((r) => toSessionView(r, now));
}
