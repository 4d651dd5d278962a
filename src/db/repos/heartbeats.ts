/**
 * Service heartbeats: roles without an HTTP endpoint (central, weather, ...) prove they are alive
 * by upserting a row every few seconds; the API's health report reads them back. A heartbeat
 * that fails (database down) is logged and retried on the next tick, never thrown.
 */
import { hostname } from "node:os";
import { desc, sql } from "drizzle-orm";
import type { Logger } from "../../lib/log.ts";
import type { Db } from "../client.ts";
import { serviceHeartbeats } from "../schema/index.ts";

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2000;
/** A service is reported down after this many of its own intervals without a beat. */
export const MISSED_BEATS_BEFORE_DOWN = 3;

export interface Beat {
  service: string;
  instance?: string;
  intervalMs?: number;
  /** Shown on the dashboard: never put secrets here. */
  details?: Record<string, unknown>;
}

export function defaultInstance(): string {
  return `${hostname()}:${process.pid}`;
}

/** Records one heartbeat now. */
export async function beat(db: Db, b: Beat, startedAt?: Date): Promise<void> {
  const instance = b.instance ?? defaultInstance();
  const intervalMs = b.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  await db
    .insert(serviceHeartbeats)
    .values({ service: b.service, instance, intervalMs, details: b.details ?? null, ...(startedAt ? { startedAt } : {}) })
    .onConflictDoUpdate({
      target: [serviceHeartbeats.service, serviceHeartbeats.instance],
      set: { lastSeenAt: sql`now()`, intervalMs, details: b.details ?? null, ...(startedAt ? { startedAt } : {}) },
    });
}

export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Beats now and then every `intervalMs` until stopped. `details` is called on each beat so a
 * role can report live figures. Stopping removes nothing: the row simply grows old.
 */
export function startHeartbeat(db: Db, b: Omit<Beat, "details"> & { details?: () => Record<string, unknown> | undefined }, log?: Logger): Heartbeat {
  const intervalMs = b.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const startedAt = new Date();
  let first = true;
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = () => {
    inFlight = beat(db, { service: b.service, instance: b.instance, intervalMs, details: b.details?.() }, first ? startedAt : undefined)
      .then(() => {
        first = false;
        if (failing) log?.info("heartbeat recorded again", { service: b.service });
        failing = false;
      })
      .catch((err) => {
        if (!failing) log?.warn("could not record heartbeat", { service: b.service, err });
        failing = true;
      });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

export interface HeartbeatRow {
  service: string;
  instance: string;
  startedAt: Date;
  lastSeenAt: Date;
  intervalMs: number;
  details: unknown;
  /** Age of the beat by the database's clock, so clock skew between machines does not matter. */
  ageMs: number;
}

/** Every instance's newest beat, newest first. */
export async function listHeartbeats(db: Db): Promise<HeartbeatRow[]> {
  const rows = await db
    .select({
      service: serviceHeartbeats.service,
      instance: serviceHeartbeats.instance,
      startedAt: serviceHeartbeats.startedAt,
      lastSeenAt: serviceHeartbeats.lastSeenAt,
      intervalMs: serviceHeartbeats.intervalMs,
      details: serviceHeartbeats.details,
      ageMs: sql<string>`extract(epoch from (now() - ${serviceHeartbeats.lastSeenAt})) * 1000`,
    })
    .from(serviceHeartbeats)
    .orderBy(desc(serviceHeartbeats.lastSeenAt));
  return rows.map((r) => ({ ...r, ageMs: Math.max(0, Number(r.ageMs)) }));
}

/** Whether a beat is recent enough to count the instance as up, by its own interval. */
export function isAlive(row: Pick<HeartbeatRow, "ageMs" | "intervalMs">): boolean {
  return row.ageMs <= row.intervalMs * MISSED_BEATS_BEFORE_DOWN;
}
