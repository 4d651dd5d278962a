/**
 * A unit of work: one database transaction that applies a batch of messages (or a sweep, or an
 * operator command), with everything it decided to say collected alongside:
 *  - audit entries, inserted in the same transaction (a batch applied once is audited once);
 *  - messages that must not be lost (answers, commands, tickets), written to the outbox in the
 *    same transaction and published after the commit;
 *  - live progress for drivers, published after the commit on a best-effort basis (the next
 *    second brings a newer one);
 *  - cache updates, run only once the transaction committed.
 */
import { inArray } from "drizzle-orm";
import { type AuditEntry, auditRow } from "../../audit/audit.ts";
import type { OutgoingMessage } from "../../bus/bus.ts";
import type { Progress } from "../../bus/messages.ts";
import type { Db } from "../../db/client.ts";
import { auditEvents, outbox } from "../../db/schema/index.ts";
import { settled } from "../../lib/settled.ts";
import type { CentralContext } from "./context.ts";

export interface Work {
  tx: Db;
  ctx: CentralContext;
  audit(entry: AuditEntry): void;
  /** A message to send once the transaction commits, never lost (outbox). */
  send(topic: string, message: OutgoingMessage): void;
  /** Live progress: the latest per session is sent after commit. */
  progress(p: Progress): void;
  afterCommit(fn: () => void): void;
}

interface Collected {
  audits: AuditEntry[];
  messages: { topic: string; key: string; value: string }[];
  progress: Map<string, Progress>;
  afterCommit: (() => void)[];
}

/** Runs `fn` in a transaction and then delivers what it collected. Throws if the transaction fails. */
export async function inWork<T>(ctx: CentralContext, fn: (work: Work) => Promise<T>): Promise<T> {
  const c: Collected = { audits: [], messages: [], progress: new Map(), afterCommit: [] };
  let outboxIds: number[] = [];
  const result = await ctx.db.transaction(async (tx) => {
    const work: Work = {
      tx: tx as unknown as Db,
      ctx,
      audit: (e) => c.audits.push(e),
      send: (topic, m) => c.messages.push({ topic, key: m.key, value: typeof m.value === "string" ? m.value : Buffer.from(m.value).toString("utf8") }),
      progress: (p) => c.progress.set(p.session_id, p),
      afterCommit: (f) => c.afterCommit.push(f),
    };
    const value = await fn(work);
    // Both inserts at once (pipelined on the transaction's connection).
    const [, rows] = await settled([
      c.audits.length ? tx.insert(auditEvents).values(c.audits.map(auditRow)) : Promise.resolve(),
      c.messages.length ? tx.insert(outbox).values(c.messages).returning({ id: outbox.id }) : Promise.resolve([]),
    ]);
    outboxIds = rows.map((r) => r.id);
    return value;
  });
  for (const f of c.afterCommit) f();
  if (c.messages.length) deliverLater(ctx, c.messages, outboxIds);
  if (c.progress.size) ctx.progress.send(c.progress.values());
  return result;
}

/** Each Central's committed outbox messages, in commit order: one delivery at a time. */
const deliveries = new WeakMap<CentralContext, Promise<void>>();

/**
 * Queues committed messages for delivery and returns: the next batch need not wait for the
 * broker. They are in the outbox already, so a crash loses none (the sweeper sends them).
 */
function deliverLater(ctx: CentralContext, messages: Collected["messages"], ids: number[]): void {
  const previous = deliveries.get(ctx) ?? Promise.resolve();
  deliveries.set(
    ctx,
    previous.then(() => deliverOutbox(ctx, messages, ids)),
  );
}

/** Waits until every committed message queued so far was delivered (or left to the sweeper). */
export async function deliveriesDone(ctx: CentralContext): Promise<void> {
  for (let last; last !== deliveries.get(ctx); ) {
    last = deliveries.get(ctx);
    await last;
  }
}

/** Publishes committed outbox messages in order, then deletes them; left in place (the sweeper retries) if the bus fails. */
async function deliverOutbox(ctx: CentralContext, messages: Collected["messages"], ids: number[]): Promise<void> {
  try {
    await publishInOrder(ctx, messages);
    await ctx.db.delete(outbox).where(inArray(outbox.id, ids));
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    ctx.log.warn("could not deliver messages now; they stay in the outbox and are retried", { count: messages.length, err });
  }
}

/** Consecutive messages for one topic go in one publish call; order is kept. */
export async function publishInOrder(ctx: CentralContext, messages: { topic: string; key: string; value: string }[]): Promise<void> {
  let i = 0;
  while (i < messages.length) {
    const topic = messages[i]!.topic;
    const group: OutgoingMessage[] = [];
    while (i < messages.length && messages[i]!.topic === topic) {
      group.push({ key: messages[i]!.key, value: messages[i]!.value });
      i++;
    }
    await ctx.bus.publish(topic, group);
  }
}
