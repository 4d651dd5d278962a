/** One charger as its page shows it: protocol, key age, credential, place, state history, readings. */
import { and, asc, desc, eq, gte, isNull, or, sql } from "drizzle-orm";
import { type Db, rowsOf } from "../../../db/client.ts";
import { findCityCoordinates } from "../../../db/repos/city-coordinates.ts";
import {
  auditEvents,
  type CredentialRow,
  chargingPoints,
  chargingSessions,
  cpCredentials,
  cpKeys,
  type SessionRow,
  sessionSamples,
} from "../../../db/schema/index.ts";
import { cpResource } from "../../../identity/audit-resource.ts";
import type { ChargerDetails, ChargerReadings, ReadingPoint, StateChangeView } from "../console-shapes.ts";
import { findChargingPoint } from "./charging-points.ts";
import { protocolOf } from "./protocol.ts";
import { iso, isoOrNull } from "./time.ts";

const STATE_HISTORY = 50;
const DAY_MS = 24 * 3600_000;
/** The day's chart keeps one reading per session per minute: at most 1,440 points a session. */
const DAY_BUCKET_S = 60;

export async function chargerDetails(db: Db, cpId: string): Promise<ChargerDetails | undefined> {
  const [cp, [row]] = await Promise.all([findChargingPoint(db, cpId), db.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId))]);
  if (!cp || !row) return undefined;
  const [[key], [credential], coordinates, changes] = await Promise.all([
    db
      .select({ createdAt: cpKeys.createdAt })
      .from(cpKeys)
      .where(and(eq(cpKeys.cpId, cpId), isNull(cpKeys.revokedAt)))
      .orderBy(desc(cpKeys.createdAt))
      .limit(1),
    row.currentCredentialId
      ? db.select().from(cpCredentials).where(eq(cpCredentials.jti, row.currentCredentialId)).limit(1)
      : Promise.resolve([] as CredentialRow[]),
    findCityCoordinates(db, row.location),
    db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.resource, cpResource(cpId)), eq(auditEvents.eventType, "state_change")))
      .orderBy(desc(auditEvents.id))
      .limit(STATE_HISTORY),
  ]);
  return {
    charging_point: cp,
    protocol: protocolOf(row),
    key: key ? { issued_at: iso(key.createdAt), age_s: Math.max(0, Math.round((Date.now() - key.createdAt.getTime()) / 1000)) } : null,
    credential: credential
      ? { issued_at: iso(credential.issuedAt), expires_at: iso(credential.expiresAt), last_used_at: isoOrNull(credential.lastUsedAt) }
      : null,
    coordinates: coordinates ? { latitude: coordinates.latitude, longitude: coordinates.longitude, source: coordinates.source } : null,
    state_history: changes.map((e): StateChangeView => {
      const details = (e.details ?? {}) as { from?: unknown; to?: unknown };
      return {
        at: iso(e.at),
        from: typeof details.from === "string" ? details.from : null,
        to: typeof details.to === "string" ? details.to : null,
        reason: e.reason,
        actor_type: e.actorType,
        actor_id: e.actorId,
      };
    }),
  };
}

interface Sample {
  sessionId: string;
  at: Date;
  powerKw: number;
  energyKwh: number;
}

const point = (at: Date, powerKw: number, energyKwh: number): ReadingPoint => ({ at: iso(at), power_kw: powerKw, energy_kwh: energyKwh });

/** A session from its start (nothing delivered yet) through its kept readings to its latest or final figures. */
function sessionPoints(s: SessionRow, samples: Sample[]): { at: Date; powerKw: number; energyKwh: number }[] {
  const points = [{ at: s.startedAt, powerKw: 0, energyKwh: 0 }, ...samples.filter((x) => x.sessionId === s.sessionId)];
  if (s.endedAt) points.push({ at: s.endedAt, powerKw: 0, energyKwh: s.energyKwh });
  else if (s.updatedAt > (points.at(-1)?.at ?? s.startedAt)) points.push({ at: s.updatedAt, powerKw: s.powerKw, energyKwh: s.energyKwh });
  return points;
}

/**
 * Power and energy at a charger: over its session in progress, and over the last 24 hours with
 * the energy added up across sessions (what the charger delivered since the window began).
 */
export async function chargerReadings(db: Db, cpId: string, now = new Date()): Promise<ChargerReadings> {
  const from = new Date(now.getTime() - DAY_MS);
  const sessions = await db
    .select()
    .from(chargingSessions)
    .where(and(eq(chargingSessions.cpId, cpId), or(eq(chargingSessions.status, "IN_PROGRESS"), gte(chargingSessions.endedAt, from))))
    .orderBy(asc(chargingSessions.startedAt));
  const current = sessions.find((s) => s.status === "IN_PROGRESS");
  const [daySamples, sessionSamplesKept] = await Promise.all([
    db.execute(sql`
      select distinct on (session_id, bucket) session_id as "sessionId", at, power_kw as "powerKw", energy_kwh as "energyKwh"
        from (select *, date_bin(make_interval(secs => ${DAY_BUCKET_S}), at, timestamptz '2000-01-01') as bucket
                from ${sessionSamples} where cp_id = ${cpId} and at >= ${from.toISOString()}::timestamptz) as s
       order by session_id, bucket, at desc`),
    current
      ? db
          .select({ sessionId: sessionSamples.sessionId, at: sessionSamples.at, powerKw: sessionSamples.powerKw, energyKwh: sessionSamples.energyKwh })
          .from(sessionSamples)
          .where(eq(sessionSamples.sessionId, current.sessionId))
          .orderBy(asc(sessionSamples.at))
      : Promise.resolve([] as Sample[]),
  ]);
  const kept = rowsOf<Sample>(daySamples)
    .map((r) => ({ ...r, at: new Date(r.at) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  const day: ReadingPoint[] = [];
  let deliveredBefore = 0;
  for (const s of sessions) {
    for (const p of sessionPoints(s, kept)) if (p.at >= from) day.push(point(p.at, p.powerKw, Math.round((deliveredBefore + p.energyKwh) * 1000) / 1000));
    // A session that began before the window counts whole: a day's chart need not split one.
    deliveredBefore += s.energyKwh;
  }
  day.sort((a, b) => a.at.localeCompare(b.at));
  return {
    session: current
      ? {
          session_id: current.sessionId,
          started_at: iso(current.startedAt),
          points: sessionPoints(current, sessionSamplesKept).map((p) => point(p.at, p.powerKw, p.energyKwh)),
        }
      : null,
    day: { from: iso(from), to: iso(now), points: day },
  };
}
