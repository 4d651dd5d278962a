/**
 * Central's clock-driven duties, every second on every instance:
 *  - a CP whose monitor seems to have missed 3 heartbeat intervals is probed; the owner of its
 *    partition makes it DISCONNECTED if it is still silent (its session is asked to end, as
 *    nobody supervises the engine any more);
 *  - a session whose engine did not answer in time (no start confirmation, no final reading
 *    within the grace after a stop was published) is probed; the owner of its CP's partition
 *    closes it with the last reading applied if it still has no answer;
 *  - messages left in the outbox by a failed publish are sent again, and so are dead letters
 *    not yet copied to their topic;
 *  - dead letters an operator asked to replay are sent back to their topics.
 * The sweeper decides nothing about a CP itself: the owner of its partition applies each probe
 * in order with the CP's messages, under its row lock (probes.ts). All time comparisons use the
 * database clock.
 */
import { sql } from "drizzle-orm";
import { cityKeySql } from "../../db/city-key.ts";
import { type Db, keyList, rowsOf } from "../../db/client.ts";
import { outbox } from "../../db/schema/index.ts";
import { RecentMap } from "../../lib/recent-map.ts";
import type { CentralContext } from "./context.ts";
import { forgetOldControlIds } from "./control-gate.ts";
import { changeCp, lockCp } from "./cp-records.ts";
import { resendDeadLetters, sendReplays } from "./dead-letters.ts";
import { lastHeartbeatUs, type Probe, probeMessage, silenceCondition } from "./probes.ts";
import { inWork, keepStarting, type OutboxMessage, startWaits } from "./work.ts";

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
  const state: SweepState = { probedAt: new Map(), deadlineProbedAt: new RecentMap(PROBE_AGAIN_MS) };

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
    ["probe overdue sessions", () => probeOverdueSessions(ctx, state)],
    ["resend the outbox", () => resendOutbox(ctx)],
    ["resend dead letters", () => resendDeadLetters(ctx)],
    ["send replays of dead letters", () => sendReplays(ctx)],
    ["forget old control message ids", () => forgetOldControlIds(ctx.db, ctx.settings.controlMaxAgeMs)],
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

/** When a CP or a session was last probed, and for what (its last heartbeat, its deadline). */
export interface Probed {
  at: number;
  what: string;
}

interface SweepState {
  /** By CP (as many as there are CPs). */
  probedAt: Map<string, Probed>;
  /** By session: only those probed lately (older ones are due again anyway, PROBE_AGAIN_MS). */
  deadlineProbedAt: RecentMap<Probed>;
}

/**
 * A probe is durable: it waits in Kafka until the owner of its partition applies it. Under a
 * backlog every CP and every awaited session looks overdue by the database, and probing each
 * again every interval flooded the partitions with probes that only said what the first one
 * would. A CP or session is probed again only for a newer heartbeat or deadline, or after this
 * long (should its owner have failed to apply the probe).
 */
export const PROBE_AGAIN_MS = 30_000;

/** Whether to probe now for `what`: never probed, probed for something else at least `soonestMs` ago, or long ago. */
export function probeDue(last: Probed | undefined, what: string, now: number, soonestMs: number): boolean {
  if (last === undefined) return true;
  return now - last.at >= (last.what === what ? PROBE_AGAIN_MS : soonestMs);
}

/** Publishes probes on the CP events topic (a failure marks the bus as failing). */
async function publishProbes(ctx: CentralContext, probes: Probe[]): Promise<void> {
  try {
    await ctx.bus.publish(
      ctx.topics.cpEvents,
      probes.map((p) => probeMessage(p, ctx.settings.instance)),
    );
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    throw err;
  }
}

/** CPs that look silent are probed; the owner of each CP's partition decides (probes.ts). */
async function probeSilentCps(ctx: CentralContext, state: SweepState): Promise<void> {
  const { probedAt } = state;
  const silent = rowsOf<{ cp_id: string; interval_s: number | null; seen_us: string }>(
    await ctx.db.execute(
      sql`select cp_id, heartbeat_interval_s as interval_s, ${lastHeartbeatUs} as seen_us from charging_points where ${silenceCondition(ctx)} order by cp_id limit 10000`,
    ),
  );
  const now = Date.now();
  const intervalMs = (s: { interval_s: number | null }) => Math.max(1000, (s.interval_s ?? ctx.settings.defaultHeartbeatS) * 1000);
  // A CP is only suspected once Central's own bus has worked for 3 of its intervals, plus the
  // time a client needs to reconnect: while the broker was away no heartbeat could arrive, and
  // that says nothing about the CP.
  const due = silent.filter(
    (s) => probeDue(probedAt.get(s.cp_id), s.seen_us, now, intervalMs(s)) && now - ctx.busHealth.failedAt >= 3 * intervalMs(s) + RECONNECT_ALLOWANCE_MS,
  );
  if (due.length === 0) return;
  await publishProbes(
    ctx,
    due.map((s) => ({ kind: "silence", cpId: s.cp_id, seenUs: s.seen_us })),
  );
  for (const s of due) probedAt.set(s.cp_id, { at: now, what: s.seen_us });
  if (probedAt.size > 50_000) probedAt.clear();
}

/**
 * Sessions whose engine did not answer in time are probed; the owner of the CP's partition
 * closes them, in order after whatever the engine sent before (probes.ts).
 */
async function probeOverdueSessions(ctx: CentralContext, state: SweepState): Promise<void> {
  // While the bus was away the engine could neither get Central's stop nor send its final
  // reading: give it the grace period again once the bus works.
  if (Date.now() - ctx.busHealth.failedAt < ctx.settings.endGraceS * 1000 + RECONNECT_ALLOWANCE_MS) return;
  const overdue = rowsOf<{ session_id: string; cp_id: string; until: string }>(
    await ctx.db.execute(
      sql`select session_id, cp_id, awaiting_until::text as until from charging_sessions where status = 'IN_PROGRESS' and awaiting_until < now() order by awaiting_until limit 1000`,
    ),
  );
  const now = Date.now();
  const due = overdue.filter((s) => probeDue(state.deadlineProbedAt.get(s.session_id, now), s.until, now, 0));
  if (due.length === 0) return;
  await publishProbes(
    ctx,
    due.map((s) => ({ kind: "deadline", cpId: s.cp_id, sessionId: s.session_id })),
  );
  for (const s of due) state.deadlineProbedAt.set(s.session_id, { at: now, what: s.until }, now);
}

async function resendOutbox(ctx: CentralContext): Promise<void> {
  const unstarted = await ctx.db.transaction(async (tx) => {
    const rows = rowsOf<{ id: number } & OutboxMessage>(
      await tx.execute(sql`
        select id, topic, key, value, session_id as "sessionId", awaits from outbox
         where created_at < now() - make_interval(secs => ${OUTBOX_RETRY_AFTER_S}::float8)
         order by id limit ${OUTBOX_BATCH} for update skip locked`),
    );
    if (rows.length === 0) return [];
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    try {
      await ctx.bus.publishAll(rows); // throws (and the rows stay) if the bus is still down
    } catch (err) {
      ctx.busHealth.failedAt = Date.now();
      throw err;
    }
    // A command whose wait cannot start now (a batch holds its session's row) stays in the
    // outbox until it does (keepStarting).
    const left = new Set(await startWaits(tx as unknown as Db, ctx, rows));
    const sent = rows.filter((r) => !left.has(r));
    if (sent.length)
      await tx.delete(outbox).where(
        sql`${outbox.id} = any(${keyList(
          sent.map((r) => r.id),
          "bigint",
        )})`,
      );
    ctx.log.info("sent messages left in the outbox", { count: rows.length });
    return rows.filter((r) => left.has(r));
  });
  if (unstarted.length)
    keepStarting(
      ctx,
      unstarted.map((r) => ({ message: r, id: r.id })),
    );
}

/** Once per start: CPs whose state disagrees with their city's current alert are re-derived. */
async function reconcileWeather(ctx: CentralContext): Promise<void> {
  const mismatched = rowsOf<{ cp_id: string }>(
    await ctx.db.execute(sql`
      select cp.cp_id from charging_points cp
        left join city_weather w
          on ${cityKeySql(sql`w.city`)} = ${cityKeySql(sql`cp.location`)}
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
