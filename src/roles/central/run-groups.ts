/**
 * Batches of several partitions that are ready at the same moment, applied in one transaction.
 *
 * A transaction costs Central and PostgreSQL about the same whatever it holds (its begin and
 * commit, each statement's round trip, a wake-up of the backend), and under load the batches of
 * the partitions Central applies at once come in together: one transaction for all of them
 * writes their readings and heartbeats with one statement each instead of one per partition.
 *
 * At most two such transactions are under way (GROUPS_AT_ONCE); the batches that arrive while
 * both are wait for one of them and go together in the next (group commit), batches of readings
 * and heartbeats alone apart from those that hold more (nextGroup). Each partition keeps
 * what it had alone: its applied offset is claimed and advanced in the same transaction (one
 * statement claims the whole group's, offsets.ts), its messages are applied in their order,
 * and no two batches of one partition (nor of one CP, whose requests and events share a
 * partition number) are ever in a group together, since a partition hands over its next batch
 * only when this one is done.
 * Should the transaction fail for any reason (an offset moved by another instance, a message the
 * database refuses, a deadlock, the database away), nothing of it stays and each batch is
 * applied again alone, where the reason is handled for that batch only, as it always was.
 */
import { settled } from "../../lib/settled.ts";
import type { CentralContext } from "./context.ts";
import { applyItems } from "./items.ts";
import { claimOffsets } from "./offsets.ts";
import { applyRun, itemsOf, type Run, type Tracking, timedWork } from "./runs.ts";
import { inWork } from "./work.ts";

interface Waiting {
  run: Run;
  tracking: Tracking;
  /** When it was decoded and began to wait for a transaction (performance.now()). */
  since: number;
  /** Whether it holds more than readings and heartbeats (a session's start or end, a driver's request, ...). */
  heavy: boolean;
  /** Its messages. */
  size: number;
  done: () => void;
  failed: (err: unknown) => void;
}

/**
 * Groups under way at once. With one, a batch that came just after a group started waited for
 * all of it, a session's start or end in another partition included (p99 456–512 ms at 10,000
 * chargers against 316–332 for each partition alone); with two the next group starts at once
 * and the batches that come while both are under way still go together (docs/benchmarks.md,
 * tenth round).
 */
const GROUPS_AT_ONCE = 2;

/** A partition's offset had moved: the group is undone and each batch applied alone. */
class GroupUndone extends Error {}

export class RunGroups {
  private waiting: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private ctx: CentralContext,
    /** Most batches (partitions) in one transaction. */
    private maxRuns: number,
    /** Most messages in one transaction: a batch alone may hold this many. */
    private maxMessages: number,
  ) {}

  /** Applies a run (decoding it first, outside the transaction), with others waiting at the same moment. */
  async apply(run: Run, tracking: Tracking): Promise<void> {
    await itemsOf(this.ctx, run, tracking.known);
    await new Promise<void>((done, failed) => {
      this.waiting.push({ run, tracking, since: performance.now(), heavy: holdsMoreThanReadings(run), size: run.messages.length, done, failed });
      this.schedule();
    });
  }

  /**
   * The next group starts while fewer than GROUPS_AT_ONCE are under way, once the batches ready in
   * this turn of the event loop have joined it.
   */
  private schedule(): void {
    if (this.running >= GROUPS_AT_ONCE || this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.next();
    });
  }

  private async next(): Promise<void> {
    if (this.running >= GROUPS_AT_ONCE || this.waiting.length === 0) return;
    this.running++;
    const group = this.take();
    const now = performance.now();
    for (const w of group) this.ctx.metrics?.phase("turn", (now - w.since) / 1000);
    try {
      if (group.length === 1) return await this.alone(group[0]!);
      try {
        await timedWork(this.ctx, group.length, () => applyTogether(this.ctx, group));
        this.ctx.metrics?.transaction(group.length);
        for (const w of group) w.done();
      } catch (err) {
        this.ctx.log.debug("batches of several partitions undone together; applying each alone", {
          partitions: group.map((w) => w.tracking.ref.partition),
          reason: err instanceof Error ? err.message : String(err),
        });
        // Each alone, as they came: its own failure takes its own course (runs.ts, consumer.ts).
        await Promise.all(group.map((w) => this.alone(w)));
      }
    } finally {
      this.running--;
      this.schedule();
    }
  }

  /** Applies one batch in a transaction of its own; its failure goes to its caller. */
  private alone(w: Waiting): Promise<void> {
    return applyRun(this.ctx, w.run, w.tracking).then(() => {
      this.ctx.metrics?.transaction(1);
      w.done();
    }, w.failed);
  }

  /** The next group of the batches waiting (see nextGroup); the rest go on waiting in their order. */
  private take(): Waiting[] {
    const { taken, left } = nextGroup(this.waiting, this.maxRuns, this.maxMessages);
    this.waiting = left;
    return taken;
  }
}

/**
 * Of the batches waiting (oldest first), the next group: the oldest and those after it that are
 * alike (readings and heartbeats alone, or not: `heavy`), up to `maxRuns` batches and
 * `maxMessages` messages (the oldest goes whatever its size), and those left, in their order. A
 * batch that holds a session's start or end or a driver's request takes two to three times as
 * long as one of readings alone; in one transaction with it, the readings of up to five other
 * partitions waited for it (docs/benchmarks.md, twenty-eighth round).
 */
export function nextGroup<T extends { heavy: boolean; size: number }>(waiting: T[], maxRuns: number, maxMessages: number): { taken: T[]; left: T[] } {
  const [first, ...rest] = waiting;
  if (!first) return { taken: [], left: [] };
  const taken = [first];
  const left: T[] = [];
  let messages = first.size;
  for (const w of rest) {
    if (taken.length < maxRuns && w.heavy === first.heavy && messages + w.size <= maxMessages) {
      taken.push(w);
      messages += w.size;
    } else left.push(w);
  }
  return { taken, left };
}

/** Whether a batch holds anything besides CPs' readings and heartbeats (its items decoded). */
export function holdsMoreThanReadings(run: Run): boolean {
  return (run.items ?? []).some((i) => i.kind !== "cp" || (i.event.type !== "telemetry" && i.event.type !== "heartbeat"));
}

/**
 * Applies several partitions' runs in one unit of work: the partitions' offsets claimed and
 * advanced by one statement (given in partition order), and all their items applied as one
 * batch (a CP's items stay in order: they are all in its partition's run). Throws GroupUndone
 * when a partition's offset had moved (or it had no row yet).
 */
async function applyTogether(ctx: CentralContext, group: Waiting[]): Promise<void> {
  const ordered = [...group].sort((a, b) => {
    const [x, y] = [a.tracking.ref, b.tracking.ref];
    return x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition;
  });
  await inWork(ctx, async (work) => {
    const [claimed] = await settled([
      claimOffsets(
        work.tx,
        ordered.map((w) => ({ p: w.tracking.ref, from: w.run.from!, to: w.run.to! })),
      ),
      applyItems(
        work,
        ordered.flatMap((w) => w.run.items!),
      ),
    ]);
    if (!claimed) throw new GroupUndone("a partition's applied offset moved (or has no row yet)");
    for (const w of ordered) work.afterCommit(() => w.tracking.offsets.remember(w.tracking.ref, w.run.to!, w.tracking.known));
  });
}
