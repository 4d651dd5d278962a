/**
 * Central's bus consumer: one handler for the batches of every topic Central reads. A batch is
 * decoded (envelopes opened, JSON validated) outside the database, then applied in ONE
 * transaction together with its applied offset, its accepted sequence numbers and its audit
 * entries; answers and commands leave through the outbox after the commit.
 *
 * No message can stall a partition: a bad message is audited (and set aside when its data is at
 * fault), never thrown; a batch the database refuses for good is applied in parts so that only
 * the message at fault is set aside (runs.ts). Only a temporary failure (the database is down)
 * throws, and the bus delivers the batch again: once the database answers again, so that
 * Central resumes within a moment of its return.
 */
import type { BatchHandler } from "../../bus/bus.ts";
import { isStoreUnavailable, isTransactionConflict, untilReachable } from "../../db/unavailable.ts";
import type { CentralContext } from "./context.ts";
import { AppliedOffsets, type PartitionRef } from "./offsets.ts";
import { writeReadingsReadAgain } from "./read-again.ts";
import { RunGroups } from "./run-groups.ts";
import { applyInParts, applyRun, isTemporary, OffsetMoved, type Run, type Tracking } from "./runs.ts";

export function createBatchHandler(ctx: CentralContext): BatchHandler {
  const offsets = new AppliedOffsets();
  const seen = new Set<string>();
  // Batches of several partitions ready at once share a transaction (run-groups.ts).
  const { partitionsPerTransaction, maxBatch } = ctx.settings;
  const groups = partitionsPerTransaction > 1 ? new RunGroups(ctx, partitionsPerTransaction, maxBatch) : undefined;
  const firstTry: FirstTry | undefined = groups && ((run, tracking) => groups.apply(run, tracking));
  const apply: BatchHandler = async (messages) => {
    const first = messages[0];
    if (!first) return;
    const ref: PartitionRef = { group: ctx.settings.group, topic: first.topic, partition: first.partition ?? 0 };
    if (!seen.has(`${ref.topic}/${ref.partition}`)) {
      seen.add(`${ref.topic}/${ref.partition}`);
      ctx.log.info("applying partition", { topic: ref.topic, partition: ref.partition, instance: ctx.settings.instance });
    }
    const last = messages[messages.length - 1]!.offset;
    const started = performance.now();
    if (first.timestamp !== undefined) ctx.metrics?.phase("waiting", (Date.now() - first.timestamp) / 1000);
    const done = (run: Run) => {
      ctx.metrics?.applied(ref.topic, run.items?.length ?? 0);
      ctx.metrics?.batchSeconds((performance.now() - started) / 1000);
      ctx.metrics?.committed(ref.topic, run.messages, Date.now());
    };
    if (!ctx.settings.trackOffsets || first.offset === undefined || last === undefined) {
      const run: Run = { messages };
      await applyOrSetAside(ctx, run);
      return done(run);
    }
    let next = await offsets.peek(ctx.db, ref);
    // Read again from the offset committed, which stays at the earliest reading not written yet:
    // of what was applied before, only those readings are written (read-again.ts).
    if (ctx.held && ref.topic === ctx.topics.cpEvents && first.offset < next)
      await writeReadingsReadAgain(
        ctx,
        messages.filter((m) => m.offset !== undefined && m.offset < next),
      );
    let todo = messages.filter((m) => m.offset === undefined || m.offset >= next);
    if (todo.length < messages.length)
      ctx.log.debug("skipping messages applied before", { topic: ref.topic, partition: ref.partition, count: messages.length - todo.length });
    if (todo.length === 0) return;
    try {
      // Should another instance have applied part of the batch meanwhile (a handover), the
      // partition's row says so: all of it is undone, and what is left is opened again (against
      // the sequences that instance accepted) and applied.
      let conflicts = 0;
      for (;;) {
        const known = offsets.sequencesAt(ref, next);
        const tracking: Tracking = { offsets, ref, known };
        const run: Run = { messages: todo, from: next, to: last + 1n };
        const moved = await applyOrSetAside(ctx, run, tracking, firstTry).catch((err: unknown): typeof CONFLICT => {
          // PostgreSQL undid the transaction to break a deadlock (or a serialization
          // conflict) with another one: nothing of it stayed, so it is simply done again.
          if (isTransactionConflict(err) && conflicts++ < MAX_CONFLICT_RETRIES) return CONFLICT;
          throw err;
        });
        if (moved === undefined) return done(run);
        offsets.forget(ref);
        // Refused envelopes were audited already, and stay refused: only the rest is opened again.
        const decoded = new Set(run.items?.map((i) => i.source) ?? todo);
        if (moved === CONFLICT) {
          ctx.log.debug("batch undone by a lock conflict; applying it again", { topic: ref.topic, partition: ref.partition });
          next = await offsets.peek(ctx.db, ref);
          todo = todo.filter((m) => m.offset !== undefined && m.offset >= next && decoded.has(m));
          if (todo.length === 0) return;
          continue;
        }
        // Another instance applied the partition meanwhile: the sessions' newest readings as
        // this one knew them may be behind (readings held back are checked against them).
        if (ctx.held) ctx.sessions.clear();
        if (moved > last) return; // all of it was applied by the other instance
        next = moved;
        todo = todo.filter((m) => m.offset !== undefined && m.offset >= moved && decoded.has(m));
      }
    } catch (err) {
      offsets.forget(ref);
      ctx.log.warn("batch not applied; the bus delivers it again", { topic: ref.topic, partition: ref.partition, count: todo.length, err });
      throw err;
    }
  };
  return (messages) => apply(messages).catch(afterOutage(ctx));
}

/** A batch PostgreSQL undid to break a deadlock is applied again, a few times at most. */
const MAX_CONFLICT_RETRIES = 5;
const CONFLICT = Symbol("conflict");

/** Rethrows, after waiting for the database to answer again when it was what failed. */
function afterOutage(ctx: CentralContext) {
  return async (err: unknown): Promise<never> => {
    if (isStoreUnavailable(err)) await untilReachable(ctx.db);
    throw err;
  };
}

/** How a tracked run is applied first: alone (applyRun), or with other partitions' (RunGroups). */
type FirstTry = (run: Run, tracking: Tracking) => Promise<void>;

/**
 * Applies a run (`first`: how, when it is tracked); when its data fails it, applies it in parts
 * and sets aside what fails alone. Returns the partition's applied offset when another instance
 * moved it first (nothing applied).
 */
async function applyOrSetAside(ctx: CentralContext, run: Run, tracking?: Tracking, first?: FirstTry): Promise<bigint | undefined> {
  try {
    await (first && tracking ? first(run, tracking) : applyRun(ctx, run, tracking));
    return undefined;
  } catch (err) {
    if (err instanceof OffsetMoved) return err.next;
    if (await isTemporary(ctx, err)) throw err;
    ctx.log.warn("a batch failed on its data; applying it in parts to set aside what fails", {
      topic: run.messages[0]!.topic,
      partition: run.messages[0]!.partition,
      count: run.messages.length,
      err,
    });
    await applyInParts(ctx, run, err, tracking);
    return undefined;
  }
}
