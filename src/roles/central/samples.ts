/**
 * Readings kept for the charts of a charger's page. Every telemetry reading updates its
 * session's row (the latest figures); besides, in the same transaction, Central keeps one
 * reading per session every SAMPLE_EVERY_MS in session_samples — enough to draw a session and a
 * day, at a fifth of a row per supplying charger per second. They are deleted after KEEP_DAYS.
 */
import { sql } from "drizzle-orm";
import { type Db, jsonRows } from "../../db/client.ts";
import type { Logger } from "../../lib/log.ts";
import type { Work } from "./work.ts";

export const SAMPLE_EVERY_MS = 5000;
export const KEEP_DAYS = 8;
const PRUNE_EVERY_MS = 3600_000;
const PRUNE_CHUNK = 10_000;

export interface Reading {
  sessionId: string;
  cpId: string;
  powerKw: number;
  energyKwh: number;
}

/** When each session's last kept reading was taken, in this process (its CPs' partitions are its own). */
const lastKept = new Map<string, number>();

function forgetStale(now: number): void {
  if (lastKept.size < 50_000) return;
  for (const [id, at] of lastKept) if (now - at > SAMPLE_EVERY_MS * 4) lastKept.delete(id);
}

/** Keeps the readings that are due (none kept for their session for SAMPLE_EVERY_MS), once the transaction commits. */
export async function keepSamples(work: Work, readings: Reading[]): Promise<void> {
  const now = Date.now();
  const due = readings.filter((r) => now - (lastKept.get(r.sessionId) ?? 0) >= SAMPLE_EVERY_MS);
  if (due.length === 0) return;
  const rows = due.map((r) => ({ id: r.sessionId, cp: r.cpId, p: r.powerKw, e: r.energyKwh }));
  await work.tx.execute(sql`
    insert into session_samples (session_id, cp_id, at, power_kw, energy_kwh)
    select v.id, v.cp, now(), v.p, v.e from json_to_recordset(${jsonRows(rows)}::json) as v(id text, cp text, p float8, e float8)
    on conflict do nothing`);
  work.afterCommit(() => {
    forgetStale(now);
    for (const r of due) lastKept.set(r.sessionId, now);
  });
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
