/**
 * Applying a run of one partition's messages, and what happens when that fails. A temporary
 * failure (the database is away or busy) is thrown, so the bus delivers the run again and
 * nothing is lost. A failure of the run's own data (the database refuses a value for good) would
 * fail the same way forever and stall the partition: the run is applied in halves, each alone,
 * down to the one message that fails by itself, which is set aside (a dead letter, audited);
 * the rest is applied and the partition moves on.
 */
import { sql } from "drizzle-orm";
import { BusError, type BusMessage } from "../../bus/bus.ts";
import { failureKind, sqlStateOf } from "../../db/failures.ts";
import { settled } from "../../lib/settled.ts";
import type { CentralContext } from "./context.ts";
import { applyItems, decode, type Item, useUp } from "./items.ts";
import type { AppliedOffsets, PartitionRef } from "./offsets.ts";
import { inWork, type Work } from "./work.ts";

/** Consecutive messages of one partition, and their items once decoded. */
export interface Run {
  messages: BusMessage[];
  items?: Item[];
  /** With offset tracking: the partition's applied offset before the run, and after it. */
  from?: bigint;
  to?: bigint;
}

/** Offset tracking (Kafka): each run's transaction locks the partition's row, checks `from` and advances it to `to`. */
export interface Tracking {
  offsets: AppliedOffsets;
  ref: PartitionRef;
  /** Senders' last accepted sequences as this instance knows them (see AppliedOffsets). */
  known: Map<string, number>;
}

/** The partition's applied offset was not the one expected: the transaction is undone. */
export class OffsetMoved extends Error {
  constructor(readonly next: bigint) {
    super(`the partition's applied offset moved to ${next}`);
  }
}

/**
 * The run's items, decoded the first time they are asked for (the batch's `opening` phase): a
 * part of it applied again, or set aside, uses the same items.
 */
export async function itemsOf(ctx: CentralContext, run: Run, known?: Map<string, number>): Promise<Item[]> {
  if (run.items) return run.items;
  const started = performance.now();
  run.items = await decode(ctx, run.messages, known);
  ctx.metrics?.phase("opening", (performance.now() - started) / 1000);
  return run.items;
}

/** Runs a batch's transaction, counted as its `transaction` phase (once per batch it applies) when it commits. */
export async function timedWork<T>(ctx: CentralContext, batches: number, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < batches; i++) ctx.metrics?.phase("transaction", seconds);
  return result;
}

/** Applies a run in one unit of work; `also` adds to it (setting a message aside). */
export async function applyRun(ctx: CentralContext, run: Run, tracking?: Tracking, also?: (work: Work, items: Item[]) => Promise<void>): Promise<void> {
  const items = await itemsOf(ctx, run, tracking?.known);
  const apply = (work: Work) => (also ? also(work, items) : applyItems(work, items));
  if (!tracking || run.from === undefined || run.to === undefined) {
    await timedWork(ctx, 1, () => inWork(ctx, apply));
    return;
  }
  const { offsets, ref, known } = tracking;
  const [from, to] = [run.from, run.to];
  await timedWork(ctx, 1, () =>
    inWork(ctx, async (work) => {
      // Locked and advanced (expecting the offset last seen), and applied, in one go (pipelined).
      const [moved] = await settled([offsets.claim(work.tx, ref, from, to), apply(work)]);
      if (moved !== undefined) throw new OffsetMoved(moved);
      work.afterCommit(() => offsets.remember(ref, to, known));
    }),
  );
}

/**
 * Whether a failure is the database's (retry later) rather than the data's. A failure of no
 * known kind counts as the database's while the database does not answer a plain query.
 */
export async function isTemporary(ctx: CentralContext, err: unknown): Promise<boolean> {
  if (err instanceof BusError || err instanceof OffsetMoved) return true;
  const kind = failureKind(err);
  if (kind !== "unknown") return kind === "temporary";
  try {
    await ctx.db.execute(sql`select 1`);
    return false;
  } catch {
    return true;
  }
}

/**
 * A run failed on its data (`err`): applies it in halves, each alone, until the messages that
 * fail by themselves are found and set aside. Throws when a temporary failure (or another
 * instance taking the partition) interrupts, so that the bus delivers what is left again.
 */
export async function applyInParts(ctx: CentralContext, run: Run, err: unknown, tracking?: Tracking): Promise<void> {
  if (run.messages.length === 1) return setAside(ctx, run, err, tracking);
  const half = Math.ceil(run.messages.length / 2);
  const parts = [partOf(run, 0, half), partOf(run, half, run.messages.length)];
  for (const part of parts) {
    try {
      await applyRun(ctx, part, tracking);
    } catch (failure) {
      if (await isTemporary(ctx, failure)) throw failure;
      await applyInParts(ctx, part, failure, tracking);
    }
  }
}

function partOf(run: Run, start: number, end: number): Run {
  const messages = run.messages.slice(start, end);
  const inPart = new Set(messages);
  const after = run.messages[end];
  return {
    messages,
    items: run.items?.filter((i) => inPart.has(i.source)),
    from: start === 0 ? run.from : messages[0]!.offset,
    to: after ? after.offset : run.to,
  };
}

/**
 * One message failed by itself: it is tried once more when the failure was of no known kind
 * (a fluke, perhaps), then set aside in a unit of work of its own that also moves the partition
 * past it and uses up its sequence (only an operator's replay can bring it back).
 */
async function setAside(ctx: CentralContext, run: Run, err: unknown, tracking?: Tracking): Promise<void> {
  let failure = err;
  if (failureKind(err) === "unknown") {
    try {
      await applyRun(ctx, run, tracking);
      return;
    } catch (again) {
      if (await isTemporary(ctx, again)) throw again;
      failure = again;
    }
  }
  const message = run.messages[0]!;
  const why = { code: sqlStateOf(failure) ?? "error", reason: rootMessage(failure) };
  ctx.log.warn("a message that cannot be applied was set aside", {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset === undefined ? undefined : String(message.offset),
    code: why.code,
    reason: why.reason,
  });
  // Its items, if it could be decoded at all: a message that fails to decode is not decoded again.
  const aside = { ...run, items: run.items ?? [] };
  try {
    await applyRun(ctx, aside, tracking, async (work, items) => {
      await useUp(work, items);
      work.setAside(message, why);
    });
  } catch (failure) {
    if (await isTemporary(ctx, failure)) throw failure;
    await setAsideBare(ctx, aside, failure, tracking);
  }
}

/**
 * Not even the message's record could be stored (the database refuses its text too): the
 * partition still moves on, keeping only where the message came from, or, should the database
 * refuse that as well, only logging it.
 */
async function setAsideBare(ctx: CentralContext, run: Run, failure: unknown, tracking?: Tracking): Promise<void> {
  const message = run.messages[0]!;
  const where = { topic: message.topic, partition: message.partition, offset: message.offset === undefined ? undefined : String(message.offset) };
  ctx.log.error("a message set aside could not be stored whole; keeping only where it came from", { ...where, err: failure });
  const bare = { ...message, key: "", value: new Uint8Array(), headers: {} };
  const why = { code: sqlStateOf(failure) ?? "error", reason: "the message could not be stored (see the log)" };
  try {
    await applyRun(ctx, run, tracking, async (work) => work.setAside(bare, why));
  } catch (last) {
    if (await isTemporary(ctx, last)) throw last;
    ctx.log.error("a message was skipped without a record: the database refuses even that", { ...where, err: last });
    await applyRun(ctx, run, tracking, async () => {});
  }
}

/** The innermost message of an error (the database's own words rather than the query that failed). */
function rootMessage(err: unknown): string {
  let message = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) if (e instanceof Error && e.message) message = e.message;
  return message;
}
