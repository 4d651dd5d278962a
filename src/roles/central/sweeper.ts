/**
 * Central's clock-driven duties, every second on every instance:
 *  - a CP whose monitor seems to have missed 3 heartbeat intervals is probed; the owner of its
 *    partition makes it DISCONNECTED if it is still silent (its session is asked to end, as
 *    nobody supervises the engine any more);
 *  - a session whose engine did not answer in time (no start confirmation, no final reading
 *    after a stop) is closed with the last telemetry Central applied;
 *  - messages left in the outbox by a failed publish are sent again.
 * Each candidate is re-checked under its CP's row lock, so two instances sweeping at once do
 * each thing once; all time comparisons use the database clock.
 */
import { sql } from "drizzle-orm";
import { rowsOf } from "../../db/client.ts";
import type { EndReason } from "../../domain/billing.ts";
import type { CentralContext } from "./context.ts";
import { changeCp, lockCp } from "./cp-records.ts";
import { closeSession } from "./sessions.ts";
import { inWork, publishInOrder, type Work } from "./work.ts";

const OUTBOX_RETRY_AFTER_S = 5;
const OUTBOX_BATCH = 500;

export interface Sweeper {
  stop(): Promise<void>;
  /** One sweep now (tests, and the first one at start). */
  sweep(): Promise<void>;
}

export function startSweeper(ctx: CentralContext, everyMs: number): Sweeper {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  let weatherReconciled = false;
  const state: SweepState = { probedAt: new Map() };

  const duties: [string, () => Promise<void>][] = [
    [
      "reconcile weather",
      async () => {
        if (weatherReconciled) return;
        await reconcileWeather(ctx);
        weatherReconciled = true;
      },
    ],
    ["check the bus", () => checkBus(ctx)],
    ["probe silent CPs", () => probeSilentCps(ctx, state)],
    ["close overdue sessions", () => closeOverdueSessions(ctx)],
    ["resend the outbox", () => resendOutbox(ctx)],
  ];
  const failing = new Set<string>();
  /** Each duty on its own: the bus being down must not keep overdue sessions open. */
  const sweep = async () => {
    for (const [name, duty] of duties) {
      try {
        await duty();
        if (failing.delete(name)) ctx.log.info("sweeper duty works again", { duty: name });
      } catch (err) {
        if (!failing.has(name)) ctx.log.warn("sweeper duty failed; retrying every interval", { duty: name, err });
        failing.add(name);
      }
    }
  };
  const loop = () => {
    if (stopped) return;
    running = sweep().finally(() => {
      if (!stopped) timer = setTimeout(loop, everyMs);
    });
  };
  loop();
  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** SQL: the CP's monitor has been silent for 3 of its heartbeat intervals (by the database clock). */
export function silenceCondition(ctx: CentralContext) {
  return sql`connected and deregistered_at is null and (last_connection_time is null or
    last_connection_time < now() - make_interval(secs => 3 * coalesce(heartbeat_interval_s, ${ctx.settings.defaultHeartbeatS}::float8)))`;
}

/** Header that marks Central's own silence probe on the CP events topic. */
export const PROBE_HEADER = "evnet-silence-probe";
/** How long a client (a monitor's producer) may need to find the broker again after it returned. */
const RECONNECT_ALLOWANCE_MS = 10_000;
const BUS_CHECK_TIMEOUT_MS = 3_000;

/** A metadata round trip each sweep: Central notices an outage even when it has nothing to send. */
async function checkBus(ctx: CentralContext): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ctx.bus.ensureTopics([ctx.topics.cpEvents]),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from the bus within ${BUS_CHECK_TIMEOUT_MS} ms`)), BUS_CHECK_TIMEOUT_MS)),
      ),
    ]);
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

interface SweepState {
  /** When each CP was last probed. */
  probedAt: Map<string, number>;
}

/**
 * A CP that looks silent is not declared DISCONNECTED here: this instance may be behind on the
 * CP's partition (just restarted, or the partition just moved to it), with the CP's heartbeats
 * still waiting in Kafka. Instead a probe is sent on the CP's own key: it lands on the CP's
 * partition after every heartbeat already sent, so whichever instance owns the partition applies
 * it after those heartbeats, and decides then (consumer.ts, `applyProbe`).
 */
async function probeSilentCps(ctx: CentralContext, state: SweepState): Promise<void> {
  const { probedAt } = state;
  const silent = rowsOf<{ cp_id: string; interval_s: number | null }>(
    await ctx.db.execute(sql`select cp_id, heartbeat_interval_s as interval_s from charging_points where ${silenceCondition(ctx)} order by cp_id limit 10000`),
  );
  const now = Date.now();
  const intervalMs = (s: { interval_s: number | null }) => Math.max(1000, (s.interval_s ?? ctx.settings.defaultHeartbeatS) * 1000);
  // A CP is only suspected once Central's own bus has worked for 3 of its intervals, plus the
  // time a client needs to reconnect: while the broker was away no heartbeat could arrive, and
  // that says nothing about the CP.
  const due = silent.filter(
    (s) => now - (probedAt.get(s.cp_id) ?? 0) >= intervalMs(s) && now - ctx.busHealth.failedAt >= 3 * intervalMs(s) + RECONNECT_ALLOWANCE_MS,
  );
  if (due.length === 0) return;
  try {
    await ctx.bus.publish(
      ctx.topics.cpEvents,
      due.map((s) => ({
        key: s.cp_id,
        value: JSON.stringify({ type: "silence_probe", cp_id: s.cp_id, by: ctx.settings.instance }),
        headers: { [PROBE_HEADER]: "1" },
      })),
    );
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    throw err;
  }
  for (const s of due) probedAt.set(s.cp_id, now);
  if (probedAt.size > 50_000) probedAt.clear();
}

/** Applied in order on the CP's partition: if the CP is still silent now, it is DISCONNECTED. */
export async function applyProbe(work: Work, cpId: string): Promise<void> {
  const { ctx } = work;
  const cp = await lockCp(work, cpId);
  if (!cp) return;
  const still = rowsOf(await work.tx.execute(sql`select 1 from charging_points where cp_id = ${cpId} and ${silenceCondition(ctx)}`));
  if (still.length === 0) return; // a heartbeat arrived meanwhile (or it is disconnected already)
  await changeCp(
    work,
    cp,
    { connected: false },
    { reason: "no heartbeat from its monitor for 3 intervals", actorType: "system", actorId: ctx.settings.instance },
  );
}

async function closeOverdueSessions(ctx: CentralContext): Promise<void> {
  // While the bus was away the engine could neither get Central's stop nor send its final
  // reading: give it the grace period again once the bus works.
  if (Date.now() - ctx.busHealth.failedAt < ctx.settings.endGraceS * 1000 + RECONNECT_ALLOWANCE_MS) return;
  const overdue = rowsOf<{ session_id: string; cp_id: string }>(
    await ctx.db.execute(
      sql`select session_id, cp_id from charging_sessions where status = 'IN_PROGRESS' and awaiting_until < now() order by awaiting_until limit 1000`,
    ),
  );
  for (const { session_id, cp_id } of overdue) {
    await inWork(ctx, async (work) => {
      const cp = await lockCp(work, cp_id);
      if (!cp) return;
      const [row] = rowsOf<{ pending_end_reason: string | null }>(
        await work.tx.execute(
          sql`select pending_end_reason from charging_sessions where session_id = ${session_id} and status = 'IN_PROGRESS' and awaiting_until < now()`,
        ),
      );
      if (!row) return;
      const reason = (row.pending_end_reason ?? "engine_no_response") as EndReason;
      ctx.log.warn("the engine did not answer in time; closing the session with the last reading", { cp_id, session_id, reason });
      await closeSession(work, cp, session_id, { reason });
    });
  }
}

async function resendOutbox(ctx: CentralContext): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const rows = rowsOf<{ id: number; topic: string; key: string; value: string }>(
      await tx.execute(sql`
        delete from outbox where id in (
          select id from outbox where created_at < now() - make_interval(secs => ${OUTBOX_RETRY_AFTER_S}::float8)
           order by id limit ${OUTBOX_BATCH} for update skip locked)
        returning id, topic, key, value`),
    );
    if (rows.length === 0) return;
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    try {
      await publishInOrder(ctx, rows); // throws (and the rows stay) if the bus is still down
    } catch (err) {
      ctx.busHealth.failedAt = Date.now();
      throw err;
    }
    ctx.log.info("sent messages left in the outbox", { count: rows.length });
  });
}

/** Once per start: CPs whose state disagrees with their city's current alert are re-derived. */
async function reconcileWeather(ctx: CentralContext): Promise<void> {
  const mismatched = rowsOf<{ cp_id: string }>(
    await ctx.db.execute(sql`
      select cp.cp_id from charging_points cp
        left join city_weather w
          on lower(regexp_replace(trim(w.city), '\\s+', ' ', 'g')) = lower(regexp_replace(trim(cp.location), '\\s+', ' ', 'g'))
       where cp.deregistered_at is null
         and ((cp.status = 'ACTIVE' and coalesce(w.alert, false)) or (cp.status = 'OUT_OF_SERVICE' and not coalesce(w.alert, false)))
       order by cp.cp_id`),
  );
  for (const { cp_id } of mismatched)
    await inWork(ctx, async (work) => {
      const cp = await lockCp(work, cp_id);
      if (cp) await changeCp(work, cp, {}, { reason: "weather reconciled at start", actorType: "system", actorId: ctx.settings.instance });
    });
}
