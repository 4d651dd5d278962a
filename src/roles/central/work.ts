/**
 * A unit of work: one database transaction that applies a batch of messages (or a sweep, or an
 * operator command), with everything it decided to say collected alongside:
 *  - audit entries, inserted in the same transaction (a batch applied once is audited once);
 *  - messages that must not be lost (answers, commands, tickets), written to the outbox in the
 *    same transaction and published after the commit;
 *  - live progress for drivers, published after the commit on a best-effort basis (the next
 *    second brings a newer one);
 *  - cache updates, run only once the transaction committed;
 *  - messages set aside (dead letters), stored in the same transaction and copied to the
 *    dead-letter topic after the commit.
 */
import { type SQL, sql } from "drizzle-orm";
import { type AuditEntry, auditRow } from "../../audit/audit.ts";
import type { BusMessage, OutgoingMessage } from "../../bus/bus.ts";
import type { Progress } from "../../bus/messages.ts";
import { type Db, jsonRows, keyList, partsOf, rowsOf } from "../../db/client.ts";
import { auditEvents, chargingSessions, outbox } from "../../db/schema/index.ts";
import { againOnConflict } from "../../db/unavailable.ts";
import { settled } from "../../lib/settled.ts";
import type { CentralContext } from "./context.ts";
import { publishDeadLetters, type SetAsideFailure, storeDeadLetters } from "./dead-letters.ts";

export interface Work {
  tx: Db;
  ctx: CentralContext;
  audit(entry: AuditEntry): void;
  /**
   * A message to send once the transaction commits, never lost (outbox). A command the engine
   * must answer names what Central then awaits: the wait starts once it is published.
   */
  send(topic: string, message: OutgoingMessage, awaits?: Awaits): void;
  /** Live progress: the latest per session is sent after commit. */
  progress(p: Progress): void;
  afterCommit(fn: () => void): void;
  /** A message that can never be applied: stored as a dead letter with this transaction, and audited. */
  setAside(message: BusMessage, failure: SetAsideFailure): void;
}

/** An engine's answer to a command, awaited from when the command is published (see `startWaits`). */
export interface Awaits {
  sessionId: string;
  /** `start`: its supply_started; `end`: its final reading. */
  awaits: "start" | "end";
}

export interface OutboxMessage {
  topic: string;
  key: string;
  value: Uint8Array;
  sessionId?: string | null;
  awaits?: string | null;
}

interface Collected {
  audits: AuditEntry[];
  messages: OutboxMessage[];
  progress: Map<string, Progress>;
  afterCommit: (() => void)[];
  setAside: { message: BusMessage; failure: SetAsideFailure }[];
}

/** Runs `fn` in a transaction and then delivers what it collected. Throws if the transaction fails. */
export async function inWork<T>(ctx: CentralContext, fn: (work: Work) => Promise<T>): Promise<T> {
  const c: Collected = { audits: [], messages: [], progress: new Map(), afterCommit: [], setAside: [] };
  let outboxIds: number[] = [];
  let deadLetters: Awaited<ReturnType<typeof storeDeadLetters>>["rows"] = [];
  const result = await ctx.db.transaction(async (tx) => {
    const work: Work = {
      tx: tx as unknown as Db,
      ctx,
      audit: (e) => c.audits.push(e),
      send: (topic, m, a) =>
        c.messages.push({
          topic,
          key: m.key,
          value: typeof m.value === "string" ? Buffer.from(m.value, "utf8") : m.value,
          sessionId: a?.sessionId ?? null,
          awaits: a?.awaits ?? null,
        }),
      progress: (p) => c.progress.set(p.session_id, p),
      afterCommit: (f) => c.afterCommit.push(f),
      setAside: (message, failure) => c.setAside.push({ message, failure }),
    };
    const value = await fn(work);
    if (c.setAside.length) {
      const stored = await storeDeadLetters(ctx, tx as unknown as Db, c.setAside);
      deadLetters = stored.rows;
      c.audits.push(...stored.audits);
    }
    // Both inserts at once (pipelined on the transaction's connection), each in parts of a
    // bounded number of rows; the outbox's ids come back in the messages' order.
    const [, rows] = await settled([
      c.audits.length ? Promise.all(partsOf(c.audits).map((part) => tx.insert(auditEvents).values(part.map(auditRow)))) : Promise.resolve(),
      c.messages.length ? Promise.all(partsOf(c.messages).map((part) => tx.insert(outbox).values(part).returning({ id: outbox.id }))) : Promise.resolve([]),
    ]);
    outboxIds = rows.flat().map((r) => r.id);
    return value;
  });
  for (const f of c.afterCommit) f();
  if (c.messages.length) deliverLater(ctx, c.messages, outboxIds);
  if (c.progress.size) {
    ctx.progress.send(c.progress.values());
    ctx.live?.send(c.progress.values());
  }
  if (deadLetters.length)
    void publishDeadLetters(ctx, deadLetters).catch((err) => {
      ctx.busHealth.failedAt = Date.now();
      ctx.log.warn("could not copy dead letters to their topic now; the sweeper will", { count: deadLetters.length, err });
    });
  return result;
}

/**
 * Each Central's committed outbox messages waiting for delivery, in commit order, and the
 * delivery under way. One delivery at a time; it takes everything committed meanwhile, so that
 * under load the messages of many transactions leave in one publish and one delete instead of
 * queueing one delivery (a publish and a transaction) per transaction behind the others.
 * `unstarted`: delivered commands whose wait could not start yet (a batch held its session's
 * row), retried shortly; their outbox rows stay until it starts.
 */
interface Deliveries {
  waiting: { messages: OutboxMessage[]; ids: number[] }[];
  running?: Promise<void>;
  unstarted: { message: OutboxMessage; id: number }[];
  retry?: ReturnType<typeof setTimeout>;
  retrying?: Promise<void>;
}
const deliveries = new WeakMap<CentralContext, Deliveries>();

function deliveriesOf(ctx: CentralContext): Deliveries {
  let queue = deliveries.get(ctx);
  if (!queue) deliveries.set(ctx, (queue = { waiting: [], unstarted: [] }));
  return queue;
}

/**
 * Queues committed messages for delivery and returns: the next batch need not wait for the
 * broker. They are in the outbox already, so a crash loses none (the sweeper sends them).
 */
function deliverLater(ctx: CentralContext, messages: Collected["messages"], ids: number[]): void {
  const q = deliveriesOf(ctx);
  q.waiting.push({ messages, ids });
  q.running ??= (async () => {
    try {
      while (q.waiting.length > 0) {
        const taken = q.waiting.splice(0);
        await deliverOutbox(
          ctx,
          taken.flatMap((t) => t.messages),
          taken.flatMap((t) => t.ids),
        );
      }
    } finally {
      q.running = undefined;
    }
  })();
}

/**
 * Waits until every committed message queued so far was delivered (or left to the sweeper), and
 * tries once more to start the waits that could not start yet (those left stay in the outbox).
 */
export async function deliveriesDone(ctx: CentralContext): Promise<void> {
  const q = deliveries.get(ctx);
  if (!q) return;
  while (q.running) await q.running;
  clearTimeout(q.retry);
  q.retry = undefined;
  while (q.retrying) await q.retrying;
  if (q.unstarted.length) await startWaitsLeft(ctx, q);
}

/**
 * Publishes committed outbox messages in order, then starts the waits their commands begin and
 * deletes them; left in place (the sweeper retries) if the bus fails.
 */
async function deliverOutbox(ctx: CentralContext, messages: Collected["messages"], ids: number[]): Promise<void> {
  try {
    await ctx.bus.publishAll(messages);
    await startWaitsAndForget(
      ctx,
      messages.map((message, i) => ({ message, id: ids[i]! })),
    );
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    ctx.log.warn("could not deliver messages now; they stay in the outbox and are retried", { count: messages.length, err });
  }
}

/** How soon a wait that could not start is tried again. */
const WAIT_RETRY_MS = 100;

/** Delivered commands whose wait could not start yet: tried again shortly (their outbox rows stay meanwhile). */
export function keepStarting(ctx: CentralContext, left: { message: OutboxMessage; id: number }[]): void {
  const q = deliveriesOf(ctx);
  q.unstarted.push(...left);
  q.retry ??= setTimeout(() => {
    q.retry = undefined;
    q.retrying = startWaitsLeft(ctx, q).finally(() => {
      q.retrying = undefined;
    });
  }, WAIT_RETRY_MS);
}

async function startWaitsLeft(ctx: CentralContext, q: Deliveries): Promise<void> {
  const taken = q.unstarted.splice(0);
  try {
    await startWaitsAndForget(ctx, taken);
  } catch (err) {
    // They are in the outbox: the sweeper sends them again and starts their waits.
    ctx.log.warn("could not start the waits of delivered commands now; the sweeper will", { count: taken.length, err });
  }
}

/**
 * Starts the waits of published commands, deletes from the outbox every message whose wait
 * started (or that awaits nothing), and keeps trying the others (keepStarting).
 */
async function startWaitsAndForget(ctx: CentralContext, published: { message: OutboxMessage; id: number }[]): Promise<void> {
  const left = new Set(
    await startWaits(
      ctx.db,
      ctx,
      published.map((p) => p.message),
    ),
  );
  const done = published.filter((p) => !left.has(p.message)).map((p) => p.id);
  // A delete PostgreSQL undid to break a deadlock (40P01) is simply done again.
  if (done.length) await againOnConflict(() => ctx.db.delete(outbox).where(sql`${outbox.id} = any(${keyList(done, "bigint")})`));
  const still = published.filter((p) => left.has(p.message));
  if (still.length) keepStarting(ctx, still);
}

/**
 * The engine was just sent these commands: Central now waits (a start timeout, the grace for a
 * final reading) from this moment, not from when it decided. Only a wait not started yet is
 * started, and only while it still makes sense (a session that started supplying awaits no
 * start; a command sent again does not restart the wait).
 *
 * It never waits for a lock: the batches update the same sessions' rows with every reading and
 * hold them until they commit, and a multi-row update waiting for one of them while holding the
 * others made every other batch wait behind it (under load, one batch at a time). A session
 * whose row is locked now is skipped; returns the messages whose wait is still to start (the
 * caller keeps them in the outbox and tries again).
 */
export async function startWaits(db: Db, ctx: CentralContext, messages: OutboxMessage[]): Promise<OutboxMessage[]> {
  const waiting = messages.filter((m) => m.sessionId && (m.awaits === "start" || m.awaits === "end"));
  if (waiting.length === 0) return [];
  const waits = waiting.map((m) => ({ id: m.sessionId!, a: m.awaits! }));
  const result = await db.execute(startWaitsStatement(waits, ctx.settings));
  const left = new Set(rowsOf<{ session_id: string; a: string }>(result).map((r) => `${r.session_id}/${r.a}`));
  return waiting.filter((m) => left.has(`${m.sessionId}/${m.awaits}`));
}

/**
 * The statement of startWaits. `due`: sessions that await this answer and have no wait yet, as
 * committed before this statement; `started`: those of them whose row could be locked now. Each
 * step looks the sessions up by their ids (keyList).
 */
export function startWaitsStatement(waits: { id: string; a: string }[], settings: { startTimeoutS: number; endGraceS: number }): SQL {
  const ids = () => keyList([...new Set(waits.map((w) => w.id))]);
  return sql`
    with v as (select distinct id, a from json_to_recordset(${jsonRows(waits)}::json) as v(id text, a text)),
    due as (
      select s.session_id, v.a from ${chargingSessions} as s join v on s.session_id = v.id
       where s.session_id = any(${ids()}) and s.status = 'IN_PROGRESS' and s.awaiting_until is null
         and ((v.a = 'start' and s.supply_started_at is null and s.pending_end_reason is null)
           or (v.a = 'end' and s.pending_end_reason is not null))),
    locked as (
      select s.session_id, due.a from ${chargingSessions} as s join due using (session_id)
       where s.session_id = any(${ids()}) order by s.session_id for update of s skip locked),
    started as (
      update ${chargingSessions} as s
         set awaiting_until = now() + make_interval(secs => case l.a when 'start' then ${settings.startTimeoutS}::float8 else ${settings.endGraceS}::float8 end)
        from locked as l
       where s.session_id = any(${ids()}) and s.session_id = l.session_id and s.status = 'IN_PROGRESS' and s.awaiting_until is null
      returning s.session_id)
    select due.session_id, due.a from due where due.session_id not in (select session_id from started)`;
}
