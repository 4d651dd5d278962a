/**
 * The sessions in progress this Central has seen, by session id: what the telemetry hot path
 * needs (CP, driver, price) without reading the database per message. Only a cache: every write
 * is still conditional on the session being in progress in PostgreSQL, and an entry the database
 * contradicts is dropped.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { chargingSessions } from "../../db/schema/index.ts";

export interface OpenSession {
  sessionId: string;
  cpId: string;
  driverId: string;
  pricePerKwh: number;
  startedAt: Date;
  /**
   * The sequence of the newest reading it took, written or held (its row's last_telemetry_seq
   * when loaded): a reading held back must be after it, as the row would require.
   */
  lastSeq: number;
}

export class OpenSessions {
  private byId = new Map<string, OpenSession>();

  get(sessionId: string): OpenSession | undefined {
    return this.byId.get(sessionId);
  }

  remember(s: OpenSession): void {
    this.byId.set(s.sessionId, s);
  }

  forget(sessionId: string): void {
    this.byId.delete(sessionId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Its newest reading's sequence moved on (written or held, once the transaction committed). */
  tookReading(sessionId: string, seq: number): void {
    const s = this.byId.get(sessionId);
    if (s && s.lastSeq < seq) s.lastSeq = seq;
  }

  /** Forgets every session: another instance may have applied their readings meanwhile (a handover). */
  clear(): void {
    this.byId.clear();
  }

  /** Loads the ones not cached yet, in one query; ids that are not in progress stay unknown. */
  async load(db: Db, sessionIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(sessionIds)].filter((id) => !this.byId.has(id));
    if (missing.length === 0) return;
    const rows = await db
      .select({
        sessionId: chargingSessions.sessionId,
        cpId: chargingSessions.cpId,
        driverId: chargingSessions.driverId,
        pricePerKwh: chargingSessions.pricePerKwh,
        startedAt: chargingSessions.startedAt,
        lastSeq: chargingSessions.lastTelemetrySeq,
      })
      .from(chargingSessions)
      .where(and(sql`${chargingSessions.sessionId} = any(${sql.param(missing)}::text[])`, eq(chargingSessions.status, "IN_PROGRESS")));
    for (const r of rows) this.byId.set(r.sessionId, r);
  }
}
