/** Charging sessions as the API shows them: in progress and history, with filters and paging. */
import { and, count, desc, eq, gte, inArray, lte, type SQL, sql } from "drizzle-orm";
import { sameCitySql } from "../../../db/city-key.ts";
import type { Db } from "../../../db/client.ts";
import { chargingPoints, chargingSessions, type SessionRow } from "../../../db/schema/index.ts";
import type { EndReason } from "../../../domain/billing.ts";
import type { SessionState } from "../../../domain/session-state.ts";
import { liveFiguresOf } from "../live/figures.ts";
import type { SessionView } from "../shapes.ts";
import { iso, isoOrNull } from "./time.ts";

/** A row as the API shows it, with the live figures of `db`'s API when they are ahead of the row. */
export function toSessionView(db: Db, row: SessionRow, now: Date = new Date()): SessionView {
  const view = rowView(row, now);
  return liveFiguresOf(db)?.over(view, now.getTime()) ?? view;
}

/** What the live figures add to rows' sums (only sessions in progress whose figures are ahead of their rows). */
export interface LiveGain {
  power_kw: number;
  energy_kwh: number;
  cost_eur: number;
}

export function liveGainOf(db: Db, rows: SessionRow[], now: Date = new Date()): LiveGain {
  const gain = { power_kw: 0, energy_kwh: 0, cost_eur: 0 };
  const live = liveFiguresOf(db);
  if (!live || live.size === 0) return gain;
  for (const row of rows) {
    const view = rowView(row, now);
    const shown = live.over(view, now.getTime());
    if (shown === view) continue;
    gain.power_kw += shown.power_kw - view.power_kw;
    gain.energy_kwh += shown.energy_kwh - view.energy_kwh;
    gain.cost_eur += shown.cost_eur - view.cost_eur;
  }
  return gain;
}

/** The rows of sessions in progress that match, when live figures may change their sums (none otherwise). */
export async function inProgressRowsForGain(db: Db, where?: SQL): Promise<SessionRow[]> {
  return (liveFiguresOf(db)?.size ?? 0) === 0 ? [] : inProgressRows(db, where);
}

function rowView(row: SessionRow, now: Date): SessionView {
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
  status?: SessionState;
  cpId?: string;
  driverId?: string;
  /** Sessions at the chargers of this city (matched like the weather office matches cities). */
  city?: string;
  /** Sessions that started at or after `from` and at or before `to`. */
  from?: Date;
  to?: Date;
  endReason?: EndReason;
  limit: number;
  offset: number;
}

export function whereOf(f: Omit<SessionFilter, "limit" | "offset">): SQL | undefined {
  const conditions: SQL[] = [];
  if (f.status) conditions.push(eq(chargingSessions.status, f.status));
  if (f.cpId) conditions.push(eq(chargingSessions.cpId, f.cpId));
  if (f.driverId) conditions.push(eq(chargingSessions.driverId, f.driverId));
  if (f.city)
    conditions.push(
      inArray(chargingSessions.cpId, sql`(select ${chargingPoints.cpId} from ${chargingPoints} where ${sameCitySql(chargingPoints.location, f.city)})`),
    );
  if (f.from) conditions.push(gte(chargingSessions.startedAt, f.from));
  if (f.to) conditions.push(lte(chargingSessions.startedAt, f.to));
  if (f.endReason) conditions.push(eq(chargingSessions.endReason, f.endReason));
  return conditions.length ? and(...conditions) : undefined;
}

export interface SessionTotals {
  sessions: number;
  energy_kwh: number;
  cost_eur: number;
  /** Seconds of charging, in-progress sessions counted to now. */
  duration_s: number;
}

/** What the sessions that match add up to, counted by the database (with the live figures of those in progress). */
export async function sessionTotals(db: Db, f: Omit<SessionFilter, "limit" | "offset">): Promise<SessionTotals> {
  const [[row], inProgress] = await Promise.all([sumsOf(db, f), inProgressRowsForGain(db, whereOf(f))]);
  const gain = liveGainOf(db, inProgress);
  return {
    sessions: Number(row?.sessions ?? 0),
    energy_kwh: Math.round((Number(row?.energy ?? 0) + gain.energy_kwh) * 1000) / 1000,
    cost_eur: Math.round((Number(row?.cost ?? 0) + gain.cost_eur) * 100) / 100,
    duration_s: Math.round(Number(row?.duration ?? 0)),
  };
}

function sumsOf(db: Db, f: Omit<SessionFilter, "limit" | "offset">) {
  return db
    .select({
      sessions: count(),
      energy: sql<string>`coalesce(sum(${chargingSessions.energyKwh}), 0)`,
      cost: sql<string>`coalesce(sum(${chargingSessions.costEur}), 0)`,
      duration: sql<string>`coalesce(sum(extract(epoch from (coalesce(${chargingSessions.endedAt}, now()) - ${chargingSessions.startedAt}))), 0)`,
    })
    .from(chargingSessions)
    .where(whereOf(f));
}

/** Newest first. */
export async function listSessions(db: Db, f: SessionFilter): Promise<{ sessions: SessionView[]; total: number }> {
  const where = whereOf(f);
  const [rows, totals] = await Promise.all([
    db.select().from(chargingSessions).where(where).orderBy(desc(chargingSessions.startedAt), desc(chargingSessions.sessionId)).limit(f.limit).offset(f.offset),
    db.select({ n: count() }).from(chargingSessions).where(where),
  ]);
  const now = new Date();
  return { sessions: rows.map((r) => toSessionView(db, r, now)), total: Number(totals[0]?.n ?? 0) };
}

export async function findSession(db: Db, sessionId: string): Promise<SessionView | undefined> {
  const [row] = await db.select().from(chargingSessions).where(eq(chargingSessions.sessionId, sessionId)).limit(1);
  return row ? toSessionView(db, row) : undefined;
}

/** Sessions in progress, keyed by CP id (a CP has at most one). */
export async function sessionsInProgress(db: Db, cpIds?: string[]): Promise<SessionView[]> {
  const rows = await inProgressRows(db, cpIds && inArray(chargingSessions.cpId, cpIds));
  const now = new Date();
  return rows.map((r) => toSessionView(db, r, now));
}

/** The rows of sessions in progress that also match `where` (all, without it), newest first. */
export async function inProgressRows(db: Db, where?: SQL): Promise<SessionRow[]> {
  const inProgress = eq(chargingSessions.status, "IN_PROGRESS");
  return db
    .select()
    .from(chargingSessions)
    .where(where ? and(inProgress, where) : inProgress)
    .orderBy(desc(chargingSessions.startedAt));
}
