/**
 * Reconciling Central's sessions with what the chargers actually supply. Central's view and an
 * engine's can part: an engine restarted (or `evnet up` was) and lost its session, Central closed
 * a session the engine goes on supplying, a database restored from a backup forgot one. What an
 * engine says about itself is decided on in order with everything else it sent on its CP's
 * partition; what its monitor says only prompts a question to the engine.
 */
import { sql } from "drizzle-orm";
import type { EngineState, EngineSupply } from "../../bus/messages.ts";
import { type CpRow, chargingSessions } from "../../db/schema/index.ts";
import { RecentMap } from "../../lib/recent-map.ts";
import { closeSession, findSession, sessionInProgressAt } from "./sessions.ts";
import type { Work } from "./work.ts";

/** Engines supplying a session Central has closed are told to stop, at most this often per session. */
const STRAY_STOP_EVERY_MS = 5000;
const strayStopsSent = new RecentMap<number>(STRAY_STOP_EVERY_MS);

/**
 * An engine supplies a session that is not in progress at its CP (Central closed it, or never
 * had it: a database restored from a backup, a session of another network): tell it to stop.
 */
export async function stopStraySupply(work: Work, cpId: string, sessionId: string): Promise<void> {
  const last = strayStopsSent.get(sessionId) ?? 0;
  if (Date.now() - last < STRAY_STOP_EVERY_MS) return;
  const session = await findSession(work, sessionId);
  if (session && session.cpId === cpId && session.status === "IN_PROGRESS") return;
  if (!session || session.cpId !== cpId)
    work.ctx.log.warn("an engine supplies a session Central does not know; telling it to stop", { cp_id: cpId, session_id: sessionId });
  strayStopsSent.set(sessionId, Date.now());
  try {
    const known = session && session.cpId === cpId;
    const command = await work.ctx.channel.sealForCp(
      cpId,
      { type: "stop_supply", session_id: sessionId, reason: known ? (session.endReason ?? "operator_stop") : "unknown_session" },
      work.tx,
    );
    work.send(work.ctx.topics.cpCommands, command);
  } catch (err) {
    work.ctx.log.warn("could not tell an engine to stop a closed session", { cp_id: cpId, session_id: sessionId, err });
  }
}

/**
 * What the engine says it supplies, in order after everything it sent before. A session in
 * progress that the engine had confirmed (supply_started came earlier on this partition) and
 * no longer supplies is lost: the engine that confirmed it would have sent its final reading
 * before this, so it was restarted (or lost its state). The session closes with the last
 * reading applied, which frees the CP and the driver. A session whose start the engine has not
 * confirmed yet is left to its start timeout: the command may still be on its way.
 */
export async function engineState(work: Work, cp: CpRow, e: EngineState): Promise<void> {
  const session = await sessionInProgressAt(work, cp.cpId);
  if (session && session.sessionId !== e.session_id && session.supplyStartedAt) {
    work.ctx.log.warn("the engine no longer supplies a session it had started; closing it with its last reading", {
      cp_id: cp.cpId,
      session_id: session.sessionId,
      engine_says: e.session_id ?? "idle",
      cause: e.cause,
    });
    await closeSession(work, cp, session.sessionId, { reason: "supply_lost" });
  }
  if (e.session_id && e.session_id !== session?.sessionId) await stopStraySupply(work, cp.cpId, e.session_id);
}

/**
 * A monitor's view lags its engine by up to a health check: right after a start it may still
 * say idle. Only a session confirmed longer ago than this is worth asking about.
 */
const SETTLED_AFTER_START_S = 5;
/** An engine is asked what it supplies at most this often. */
const REPORT_ASKED_EVERY_MS = 10_000;
const reportsAsked = new RecentMap<number>(REPORT_ASKED_EVERY_MS);

/**
 * A monitor's heartbeat says its engine supplies nothing (or another session) while Central has
 * a session there that the engine confirmed. The monitor's view is not in order with the
 * engine's own messages (a reading it took just before a start, sent just after), so it decides
 * nothing: the engine is asked to say what it supplies, and its answer, in order with its own
 * events, does (`engineState`).
 */
export async function askEnginesThatDisagree(work: Work, reports: [string, EngineSupply][]): Promise<void> {
  if (reports.length === 0) return;
  const now = Date.now();
  const due = reports.filter(([cpId]) => now - (reportsAsked.get(cpId, now) ?? 0) >= REPORT_ASKED_EVERY_MS);
  if (due.length === 0) return;
  const rows = await work.tx
    .select({ cpId: chargingSessions.cpId, sessionId: chargingSessions.sessionId })
    .from(chargingSessions)
    .where(
      sql`${chargingSessions.cpId} = any(${sql.param(due.map(([cpId]) => cpId))}::text[]) and ${chargingSessions.status} = 'IN_PROGRESS'
          and ${chargingSessions.supplyStartedAt} < now() - make_interval(secs => ${SETTLED_AFTER_START_S}::float8)`,
    );
  const reported = new Map(due);
  for (const { cpId, sessionId } of rows) {
    const supply = reported.get(cpId);
    if (supply?.session_id === sessionId) continue;
    reportsAsked.set(cpId, now, now);
    work.ctx.log.info("the monitor says the engine is not supplying its session; asking the engine", {
      cp_id: cpId,
      session_id: sessionId,
      monitor_says: supply?.session_id ?? "idle",
    });
    try {
      work.send(work.ctx.topics.cpCommands, await work.ctx.channel.sealForCp(cpId, { type: "report_state" }, work.tx));
    } catch (err) {
      work.ctx.log.warn("could not ask an engine what it supplies", { cp_id: cpId, err });
    }
  }
}
