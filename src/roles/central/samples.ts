/**
 * Readings kept for the charts of a charger's page. Every telemetry reading updates its
 * session's row (the latest figures); besides, the same statement keeps one reading per session
 * every SAMPLE_EVERY_MS in session_samples (cp-events.ts, readingsUpdate) — enough to draw a
 * session and a day, at a fifth of a row per supplying charger per second. This module decides
 * which readings are due; they are deleted after KEEP_DAYS.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import type { Logger } from "../../lib/log.ts";
import { RecentMap } from "../../lib/recent-map.ts";

export const SAMPLE_EVERY_MS = 5000;
export const KEEP_DAYS = 8;
const PRUNE_EVERY_MS = 3600_000;
const PRUNE_CHUNK = 10_000;

/**
 * When each session's last kept reading was taken, in this process (its CPs' partitions are its
 * own); a session not heard of for SAMPLE_EVERY_MS is due anyway, so it is forgotten then.
 */
const lastKept = new RecentMap<number>(SAMPLE_EVERY_MS);

/** Whether a session's reading is due to be kept: none was kept for it for SAMPLE_EVERY_MS. */
export function sampleDue(sessionId: string, now: number): boolean {
  return now - (lastKept.get(sessionId, now) ?? 0) >= SAMPLE_EVERY_MS;
}

/** The sessions whose reading was kept at `now`, once the transaction that kept it committed. */
export function samplesKept(sessionIds: string[], now: number): void {
  for (const id of sessionIds) lastKept.set(id, now, now);
}

/** Deletes readings older than KEEP_DAYS, now and every hour, a chunk at a time. */
export function startSamplePruning(db: Db, log: Logger): { stop(): void } {
  const prune = async () => {
    try {
      for (;;) {
        const deleted = await db.execute(sql`
          delete from session_samples where ctid in (
            select ctid from session_samples where at < now() - make_interval(days => ${KEEP_DAYS}) limit ${PRUNE_CHUNK})`);
        const count = (deleted as { count?: number; affectedRows?: number }).count ?? (deleted as { affectedRows?: number }).affectedRows ?? 0;
        if (count < PRUNE_CHUNK) return;
      }
    } catch (err) {
      log.warn("could not delete old session readings; trying again later", { err });
    }
  };
  void prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
