/**
 * The operator's view and levers, shared by the admin menu and `evnet central <operation>`:
 * reads go to the database; stop and resume go to the bus as control messages (whichever
 * Central instance owns the CP applies them); revocation goes through the identity module.
 */
import { userInfo } from "node:os";
import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Auditor } from "../../audit/audit.ts";
import { type ControlSender, sendControl } from "../../bus/control-messages.ts";
import { isCity } from "../../db/city-key.ts";
import { type Db, rowsOf } from "../../db/client.ts";
import { type CpRow, chargingPoints, chargingSessions, drivers, ocppChargers, outbox, type SessionRow } from "../../db/schema/index.ts";
import { isId, textSchema } from "../../domain/ids.ts";
import type { SessionState } from "../../domain/session-state.ts";
import { DRIVER_ID_PATTERN, DRIVER_ID_RULE, type Registered, registerDriver } from "../../identity/drivers.ts";
import {
  DEFAULT_PRICE_PER_KWH,
  type RegisteredOcppCharger,
  registerOcppCharger,
  SECURITY_PROFILES,
  type SecurityProfile,
} from "../../identity/ocpp-chargers.ts";
import { revokeCpKey } from "../../identity/revoke.ts";
import { AppError } from "../../lib/errors.ts";
import { localTime } from "../../lib/local-time.ts";

export type CpFilter = "all" | "available" | "active";

/** The database, the bus and the control signing key (stop, resume and revocation are signed for Central). */
export interface AdminDeps extends ControlSender {
  db: Db;
  auditor: Auditor;
}

/** How Central's admin menu and one-shot operations sign what they tell Central. */
export const CENTRAL_ADMIN_SIGNER = "central-admin";

export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return "operator";
  }
}

/** available: free to charge (ACTIVE); active: charging now (SUPPLYING); all: every registered CP. */
export async function listCps(db: Db, filter: CpFilter = "all"): Promise<CpRow[]> {
  const registered = isNull(chargingPoints.deregisteredAt);
  const where =
    filter === "available"
      ? and(registered, eq(chargingPoints.status, "ACTIVE"))
      : filter === "active"
        ? and(registered, eq(chargingPoints.status, "SUPPLYING"))
        : registered;
  return db.select().from(chargingPoints).where(where).orderBy(chargingPoints.cpId);
}

export async function showCp(db: Db, cpId: string): Promise<{ cp: CpRow; session?: SessionRow; recent: SessionRow[] }> {
  const [cp] = await db.select().from(chargingPoints).where(eq(chargingPoints.cpId, cpId));
  if (!cp) throw new AppError("not_found", `there is no charging point ${cpId}`);
  const recent = await db.select().from(chargingSessions).where(eq(chargingSessions.cpId, cpId)).orderBy(desc(chargingSessions.startedAt)).limit(5);
  return { cp, session: recent.find((s) => s.status === "IN_PROGRESS"), recent };
}

export async function listSessions(db: Db, limit = 20, status?: SessionState): Promise<SessionRow[]> {
  return db
    .select()
    .from(chargingSessions)
    .where(status ? eq(chargingSessions.status, status) : undefined)
    .orderBy(desc(chargingSessions.startedAt))
    .limit(limit);
}

export async function showSession(db: Db, sessionId: string): Promise<SessionRow> {
  const [s] = await db.select().from(chargingSessions).where(eq(chargingSessions.sessionId, sessionId));
  if (!s) throw new AppError("not_found", `there is no session ${sessionId}`);
  return s;
}

async function targets(db: Db, target: string): Promise<string[]> {
  if (target === "all") return (await listCps(db)).map((c) => c.cpId);
  const [cp] = await db
    .select({ cpId: chargingPoints.cpId })
    .from(chargingPoints)
    .where(and(eq(chargingPoints.cpId, target), isNull(chargingPoints.deregisteredAt)));
  if (!cp) throw new AppError("not_found", `there is no charging point ${target}`);
  return [cp.cpId];
}

/** The operator's reason as Central will read it: at most 500 characters, no control character. */
function reasonOf(reason: string | undefined, fallback: string): string {
  const checked = v.safeParse(textSchema(500, "reason"), reason?.trim() || fallback);
  if (!checked.success) throw new AppError("bad_request", checked.issues[0].message);
  return checked.output;
}

/** Stops (or resumes) one CP or all of them; returns the CP ids told. */
export async function setStopped(deps: AdminDeps, target: string, stop: boolean, reason?: string): Promise<string[]> {
  const text = reasonOf(reason, stop ? "stopped by the operator" : "resumed by the operator");
  const ids = await targets(deps.db, target);
  const actor = operatorName();
  const at = new Date().toISOString();
  await sendControl(
    deps,
    ids.map((cpId) => ({ type: stop ? "operator_stop" : "operator_resume", cp_id: cpId, actor_id: actor, reason: text, at })),
  );
  return ids;
}

/** Registers a driver, or gives a registered one a new credential; returns the credential (shown once). */
export async function registerDriverAccount(deps: Pick<AdminDeps, "db" | "auditor">, driverId: string): Promise<Registered> {
  if (!DRIVER_ID_PATTERN.test(driverId)) throw new AppError("bad_request", `a driver id is ${DRIVER_ID_RULE}, not '${driverId}'`);
  return registerDriver(deps, driverId, { role: "operator", actorId: operatorName(), sourceAddress: "central admin" });
}

export async function revoke(deps: AdminDeps, cpId: string, reason?: string): Promise<string[]> {
  const why = reasonOf(reason, "revoked by operator");
  const result = await revokeCpKey(deps, { cpId, actorType: "operator", actorId: operatorName(), reason: why, sourceAddress: "central admin" });
  return result.revokedKeyIds;
}

export interface Stats {
  charging_points: Record<string, number>;
  sessions_in_progress: number;
  sessions_finished: number;
  energy_kwh_total: number;
  revenue_eur_total: number;
  drivers: number;
  drivers_charging: number;
  outbox_backlog: number;
}

export async function stats(db: Db): Promise<Stats> {
  const states = await db
    .select({ status: chargingPoints.status, n: count() })
    .from(chargingPoints)
    .where(isNull(chargingPoints.deregisteredAt))
    .groupBy(chargingPoints.status);
  const [sessions] = rowsOf<{ open: string; finished: string; energy: number | null; revenue: number | null }>(
    await db.execute(sql`select count(*) filter (where status = 'IN_PROGRESS') as open, count(*) filter (where status = 'FINISHED') as finished,
                           sum(energy_kwh) filter (where status = 'FINISHED') as energy, sum(cost_eur) filter (where status = 'FINISHED') as revenue
                      from ${chargingSessions}`),
  );
  const [d] = await db.select({ all: count(), charging: sql<string>`count(*) filter (where ${drivers.status} = 'CHARGING')` }).from(drivers);
  const [o] = await db.select({ n: count() }).from(outbox);
  return {
    charging_points: Object.fromEntries(states.map((s) => [s.status, Number(s.n)])),
    sessions_in_progress: Number(sessions?.open ?? 0),
    sessions_finished: Number(sessions?.finished ?? 0),
    energy_kwh_total: Math.round(Number(sessions?.energy ?? 0) * 1000) / 1000,
    revenue_eur_total: Math.round(Number(sessions?.revenue ?? 0) * 100) / 100,
    drivers: Number(d?.all ?? 0),
    drivers_charging: Number(d?.charging ?? 0),
    outbox_backlog: Number(o?.n ?? 0),
  };
}

// ---- text for people ---------------------------------------------------------------------

export function formatCps(cps: CpRow[]): string {
  if (cps.length === 0) return "(none)";
  return cps
    .map((c) => `${c.cpId.padEnd(12)} ${c.status.padEnd(15)} ${c.location.padEnd(12)} ${c.pricePerKwh.toFixed(2)} €/kWh  ${c.statusReason ?? ""}`)
    .join("\n");
}

export function formatSession(s: SessionRow): string {
  const duration = Math.round(((s.endedAt ?? new Date()).getTime() - s.startedAt.getTime()) / 1000);
  return [
    `session      ${s.sessionId}`,
    `cp / driver  ${s.cpId} / ${s.driverId}`,
    `status       ${s.status}${s.pendingEndReason ? ` (ending: ${s.pendingEndReason})` : ""}`,
    `energy       ${s.energyKwh.toFixed(3)} kWh at ${s.pricePerKwh.toFixed(2)} €/kWh = ${s.costEur.toFixed(2)} €`,
    `power        ${s.powerKw} kW`,
    `start / end  ${localTime(s.startedAt)} / ${localTime(s.endedAt)}  (${duration} s)`,
    `end reason   ${s.endReason ?? "-"}`,
  ].join("\n");
}

export function formatSessions(sessions: SessionRow[]): string {
  if (sessions.length === 0) return "(none)";
  return sessions
    .map(
      (s) =>
        `${s.sessionId.padEnd(24)} ${s.cpId.padEnd(10)} ${s.driverId.padEnd(10)} ${s.status.padEnd(11)} ${s.energyKwh.toFixed(3)} kWh ${s.costEur.toFixed(2)} €  ${localTime(s.startedAt)}  ${s.endReason ?? ""}`,
    )
    .join("\n");
}

export function formatCp(view: Awaited<ReturnType<typeof showCp>>): string {
  const c = view.cp;
  return [
    `charging point  ${c.cpId} (${c.location}, ${c.pricePerKwh.toFixed(2)} €/kWh)`,
    `state           ${c.status}: ${c.statusReason ?? ""} (since ${localTime(c.statusChangedAt)})`,
    `facts           key ${c.channelState}, ${c.connected ? "connected" : "not connected"}${c.operatorStopped ? ", stopped by operator" : ""}${c.engineFault ? ", engine fault" : ""}`,
    `last heartbeat  ${localTime(c.lastConnectionTime)}`,
    view.session ? `\n${formatSession(view.session)}` : "no session in progress",
    view.recent.length ? `\nrecent sessions\n${formatSessions(view.recent)}` : "",
  ].join("\n");
}

export function formatStats(s: Stats): string {
  const states = Object.entries(s.charging_points)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `charging points   ${states || "none"}`,
    `sessions          ${s.sessions_in_progress} in progress, ${s.sessions_finished} finished`,
    `energy delivered  ${s.energy_kwh_total.toFixed(3)} kWh`,
    `revenue           ${s.revenue_eur_total.toFixed(2)} €`,
    `drivers           ${s.drivers} (${s.drivers_charging} charging)`,
    `outbox backlog    ${s.outbox_backlog}`,
  ].join("\n");
}

/** What is wrong with each answer of an OCPP registration, as typed (undefined: nothing). */
export const ocppAnswerProblem = {
  profile: (text: string) => (SECURITY_PROFILES.includes(Number(text) as SecurityProfile) ? undefined : "the security profile is 1, 2 or 3"),
  location: (text: string) => (isCity(text.trim()) ? undefined : "the location is 1-100 characters, without control characters"),
  /** Empty: the charger keeps its price, or gets the default. */
  price: (text: string) => {
    const price = Number(text);
    return text === "" || (Number.isFinite(price) && price >= 0.01 && price <= 100) ? undefined : "the price is 0.01-100 EUR per kWh";
  },
};

/** Registers an OCPP charger as the operator at this terminal (from text, as typed in the menu or on the command line). */
export async function registerOcpp(
  deps: AdminDeps,
  input: { cpId: string; location: string; profile: string; price?: string },
): Promise<RegisteredOcppCharger> {
  if (!isId(input.cpId)) throw new AppError("bad_request", "a charger id is 1-64 letters, digits, '_', '.' or '-'");
  const problem = ocppAnswerProblem.profile(input.profile) ?? ocppAnswerProblem.location(input.location) ?? ocppAnswerProblem.price(input.price ?? "");
  if (problem) throw new AppError("bad_request", problem);
  return registerOcppCharger(
    { db: deps.db, auditor: deps.auditor, defaultPricePerKwh: DEFAULT_PRICE_PER_KWH },
    {
      cpId: input.cpId,
      location: input.location.trim(),
      pricePerKwh: input.price ? Number(input.price) : undefined,
      securityProfile: Number(input.profile) as SecurityProfile,
    },
    { actorId: operatorName() },
  );
}

/** What registering `cpId` as an OCPP charger would replace: nothing, an OCPP charger's registration, or an evnet CP. */
export async function registrationOf(
  db: Db,
  cpId: string,
): Promise<{ kind: "none" } | { kind: "evnet" } | { kind: "ocpp"; location: string; securityProfile: number; pricePerKwh: number }> {
  const [row] = await db
    .select({ location: chargingPoints.location, pricePerKwh: chargingPoints.pricePerKwh, securityProfile: ocppChargers.securityProfile })
    .from(chargingPoints)
    .leftJoin(ocppChargers, eq(ocppChargers.cpId, chargingPoints.cpId))
    .where(and(eq(chargingPoints.cpId, cpId), isNull(chargingPoints.deregisteredAt)));
  if (!row) return { kind: "none" };
  if (row.securityProfile === null) return { kind: "evnet" };
  return { kind: "ocpp", location: row.location, securityProfile: row.securityProfile, pricePerKwh: row.pricePerKwh };
}
