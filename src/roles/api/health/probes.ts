/**
 * One probe per service the dashboard shows. Each answers within a bounded time and never
 * throws: a probe that fails says why in words.
 */
import { sql } from "drizzle-orm";
import type { Bus } from "../../../bus/bus.ts";
import type { Db } from "../../../db/client.ts";
import { type HeartbeatRow, isAlive, listHeartbeats } from "../../../db/repos/heartbeats.ts";
import { tlsFetch } from "../../../http/tls-client.ts";
import type { ServiceHealth } from "../shapes.ts";

export const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The root cause in words: drizzle wraps the driver's error in a "Failed query" one. */
function message(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
}

function health(name: string, status: ServiceHealth["status"], detail: string, extra: Partial<ServiceHealth> = {}): ServiceHealth {
  return { name, status, detail, latency_ms: null, last_seen_at: null, instances: status === "up" ? 1 : 0, ...extra };
}

/** Runs `check` and times it; up when it resolves, down with its error otherwise. */
async function timed(name: string, what: string, check: () => Promise<string | undefined>): Promise<ServiceHealth> {
  const started = performance.now();
  try {
    const detail = await withTimeout(check(), PROBE_TIMEOUT_MS, what);
    return health(name, "up", detail || what, { latency_ms: Math.round(performance.now() - started) });
  } catch (err) {
    return health(name, "down", message(err), { latency_ms: null });
  }
}

export function apiHealth(startedAt: Date): ServiceHealth {
  const uptime = Math.round((Date.now() - startedAt.getTime()) / 1000);
  return health("api", "up", `serving for ${uptime} s`, { latency_ms: 0 });
}

export function databaseHealth(db: Db): Promise<ServiceHealth> {
  return timed("database", "select 1", async () => {
    await db.execute(sql`select 1`);
    return "answers queries";
  });
}

/** The broker answers a metadata request for a topic the network uses. */
export function kafkaHealth(bus: Bus, probeTopic: string): Promise<ServiceHealth> {
  if (bus.kind === "memory") return Promise.resolve(health("kafka", "up", "in-process bus (no KAFKA_BROKERS)", { latency_ms: 0 }));
  const ping = (bus as Bus & { ping?: () => Promise<void> }).ping;
  return timed("kafka", "broker metadata", async () => {
    if (ping) await ping.call(bus);
    else await bus.ensureTopics([probeTopic]);
    return "broker answers";
  });
}

export interface RegistryTarget {
  url?: string;
  caFile?: string;
}

/** `GET {REGISTRY_URL}/ev/registry/health`, trusting our CA rather than turning checks off. */
export function registryHealth(target: RegistryTarget): Promise<ServiceHealth> {
  if (!target.url) return Promise.resolve(health("registry", "unknown", "REGISTRY_URL is not configured"));
  const url = `${target.url.replace(/\/+$/, "")}/ev/registry/health`;
  return timed("registry", `GET ${url}`, async () => {
    // Built per check: a CA file made after the API started is picked up, a bad one reported.
    // Aborted a little after the probe gives up, so the report says "did not answer within ...".
    const res = await tlsFetch(target.caFile, "EVNET_CA_FILE")(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS + 500) });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    return "answers its health check";
  });
}

/** Services known by their heartbeats (central, weather, ...), by name. */
export async function heartbeatHealth(db: Db, names: string[]): Promise<ServiceHealth[]> {
  let rows: HeartbeatRow[];
  try {
    rows = await withTimeout(listHeartbeats(db), PROBE_TIMEOUT_MS, "heartbeats");
  } catch (err) {
    return names.map((n) => health(n, "unknown", `cannot read heartbeats: ${message(err)}`));
  }
  const seen = [...new Set([...names, ...rows.map((r) => r.service)])];
  return seen.map((name) => {
    const beats = rows.filter((r) => r.service === name);
    const newest = beats[0];
    if (!newest) return health(name, "unknown", "has never reported a heartbeat");
    const alive = beats.filter(isAlive);
    const age = Math.round(newest.ageMs / 1000);
    return health(
      name,
      alive.length > 0 ? "up" : "down",
      alive.length > 0 ? `${alive.length} instance${alive.length > 1 ? "s" : ""} beating` : `last heartbeat ${age} s ago`,
      { last_seen_at: newest.lastSeenAt.toISOString(), instances: alive.length },
    );
  });
}
