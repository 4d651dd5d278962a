/**
 * Probes: what the clock makes Central suspect about a CP is not decided by the instance whose
 * sweeper noticed it. That instance may be behind on the CP's partition (just restarted, or the
 * partition just moved to it) with the CP's messages still waiting in Kafka, or may not own the
 * partition at all. Instead it publishes a probe on the CP's own key: the probe lands on the CP's
 * partition after everything the CP already sent, so whichever instance owns the partition
 * applies it after those messages, and decides then, with the facts as they are by then.
 *
 *  - silence: the CP's monitor seems to have missed 3 heartbeat intervals. The probe carries the
 *    last heartbeat time the sweeper saw; if no heartbeat was applied since when the owner reaches
 *    the probe (every heartbeat sent before it came first), the monitor really was silent: the
 *    CP is DISCONNECTED (its session is asked to end). No clock is compared at that point, so a
 *    Central that applies slowly (a loaded machine, a backlog) does not mistake its own delay for
 *    the CP's silence.
 *  - deadline: the engine has not answered a command in time (no start confirmation, no final
 *    reading after a stop). Still unanswered: the session closes with the last reading applied,
 *    which is the engine's meter as far as it was heard (a final reading arriving later still
 *    corrects the ticket: sessions.ts, `correctTicket`).
 *
 * A probe is a plain message marked by a header. Anyone who can write to the topic can send one;
 * it only makes the owner check conditions it keeps itself, so a forged probe changes nothing.
 */
import { type SQL, sql } from "drizzle-orm";
import type { BusMessage, OutgoingMessage } from "../../bus/bus.ts";
import { keyList, rowsOf } from "../../db/client.ts";
import type { EndReason } from "../../domain/billing.ts";
import { isId } from "../../domain/ids.ts";
import type { CentralContext } from "./context.ts";
import { changeCp, lockCp } from "./cp-records.ts";
import { closeSession } from "./sessions.ts";
import type { Work } from "./work.ts";

/** Header of a silence probe (value: the last heartbeat time seen, in microseconds since the epoch, 0 for none). */
export const SILENCE_PROBE_HEADER = "evnet-silence-probe";
/** Header of a deadline probe (value: the session id). */
export const DEADLINE_PROBE_HEADER = "evnet-deadline-probe";

export type Probe = { kind: "silence"; cpId: string; seenUs: string } | { kind: "deadline"; cpId: string; sessionId: string };

/** Whether a message on the CP events topic is one of Central's probes (and not a CP's envelope). */
export function isProbe(m: Pick<BusMessage, "headers">): boolean {
  return m.headers?.[SILENCE_PROBE_HEADER] !== undefined || m.headers?.[DEADLINE_PROBE_HEADER] !== undefined;
}

/** The probe a message carries; undefined for a malformed one (dropped). */
export function readProbe(m: Pick<BusMessage, "headers" | "key">): Probe | undefined {
  if (!isId(m.key)) return undefined;
  const seen = m.headers?.[SILENCE_PROBE_HEADER];
  if (seen !== undefined && /^\d{1,20}$/.test(seen)) return { kind: "silence", cpId: m.key, seenUs: seen };
  const sessionId = m.headers?.[DEADLINE_PROBE_HEADER];
  if (isId(sessionId)) return { kind: "deadline", cpId: m.key, sessionId };
  return undefined;
}

export function probeMessage(probe: Probe, by: string): OutgoingMessage {
  if (probe.kind === "silence")
    return {
      key: probe.cpId,
      value: JSON.stringify({ type: "silence_probe", cp_id: probe.cpId, by }),
      headers: { [SILENCE_PROBE_HEADER]: probe.seenUs },
    };
  return {
    key: probe.cpId,
    value: JSON.stringify({ type: "deadline_probe", cp_id: probe.cpId, session_id: probe.sessionId, by }),
    headers: { [DEADLINE_PROBE_HEADER]: probe.sessionId },
  };
}

/** SQL: the CP's monitor has been silent for 3 of its heartbeat intervals (by the database clock). */
export function silenceCondition(ctx: CentralContext) {
  return sql`connected and deregistered_at is null and (last_connection_time is null or
    last_connection_time < now() - make_interval(secs => 3 * coalesce(heartbeat_interval_s, ${ctx.settings.defaultHeartbeatS}::float8)))`;
}

/** SQL: the last heartbeat time in microseconds since the epoch (0 for none), as text: what a silence probe carries. */
export const lastHeartbeatUs = sql`coalesce((extract(epoch from last_connection_time) * 1000000)::bigint, 0)::text`;

export function applyProbe(work: Work, probe: Probe): Promise<void> {
  return probe.kind === "silence" ? applySilenceProbe(work, probe.cpId, probe.seenUs) : applyDeadlineProbe(work, probe.cpId, probe.sessionId);
}

/**
 * The silence probes of CPs that sent only readings in a batch, once those are written. Under a
 * backlog nearly all find a heartbeat applied since (it was waiting in Kafka): one statement
 * looks at them all, and only a CP still silent is locked and checked again.
 */
export async function applySilenceProbes(work: Work, probes: Extract<Probe, { kind: "silence" }>[]): Promise<void> {
  if (probes.length === 0) return;
  const ids = [...new Set(probes.map((p) => p.cpId))];
  const rows = rowsOf<{ cp_id: string; seen_us: string }>(await work.tx.execute(silentCpsQuery(ids)));
  const seen = new Map(rows.map((r) => [r.cp_id, r.seen_us]));
  for (const p of probes) if (seen.get(p.cpId) === p.seenUs) await applySilenceProbe(work, p.cpId, p.seenUs);
}

/** Each of these CPs, connected and registered, with when its last heartbeat was applied (looked up by their ids). */
export function silentCpsQuery(ids: string[]): SQL {
  return sql`select cp_id, ${lastHeartbeatUs} as seen_us from charging_points
              where cp_id = any(${keyList(ids)}) and connected and deregistered_at is null`;
}

/** If no heartbeat was applied since the sweeper saw the CP silent, it is DISCONNECTED. */
async function applySilenceProbe(work: Work, cpId: string, seenUs: string): Promise<void> {
  const { ctx } = work;
  const cp = await lockCp(work, cpId);
  if (!cp) return;
  const still = rowsOf(
    await work.tx.execute(
      sql`select 1 from charging_points where cp_id = ${cpId} and connected and deregistered_at is null and ${lastHeartbeatUs} = ${seenUs}`,
    ),
  );
  if (still.length === 0) return; // a heartbeat arrived meanwhile (or it is disconnected already)
  await changeCp(
    work,
    cp,
    { connected: false },
    { reason: "no heartbeat from its monitor for 3 intervals", actorType: "system", actorId: ctx.settings.instance },
  );
}

/** If the engine still has not answered, the session closes with the last reading applied. */
async function applyDeadlineProbe(work: Work, cpId: string, sessionId: string): Promise<void> {
  const cp = await lockCp(work, cpId);
  if (!cp) return;
  const [row] = rowsOf<{ pending_end_reason: EndReason | null; supply_started: boolean }>(
    await work.tx.execute(sql`
      select pending_end_reason, supply_started_at is not null as supply_started from charging_sessions
       where session_id = ${sessionId} and cp_id = ${cpId} and status = 'IN_PROGRESS' and awaiting_until < now()`),
  );
  if (!row) return; // answered meanwhile, closed already, or not overdue (a forged probe)
  const reason = row.pending_end_reason ?? "engine_no_response";
  work.ctx.log.warn(
    row.pending_end_reason
      ? "no final reading in time; closing the session with the last reading"
      : "the engine did not confirm the start in time; closing the session",
    { cp_id: cpId, session_id: sessionId, reason },
  );
  await closeSession(work, cp, sessionId, { reason });
}
