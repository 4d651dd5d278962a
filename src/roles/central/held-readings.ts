/**
 * Readings held back from the database (CENTRAL_READINGS_INTERVAL): a session's newest reading
 * is kept here and its row written once per interval instead of with every reading. Readings
 * are cumulative, so the newest is all a session needs; drivers' progress still leaves with
 * every batch (from memory), and what waits here is:
 *  - written by a timer once it has waited the interval (one statement for all that are due);
 *  - taken into the bill when its session closes before that (closeSession);
 *  - superseded by a newer reading written on the spot (a CP whose batch also held a state
 *    change has its readings written in order with it);
 *  - never lost: while a reading waits, the Kafka offset Central commits for its partition stays
 *    at the reading's message (`keepFrom`), so that after a crash or a rebalance whoever reads
 *    the partition next reads it again and writes it (consumer.ts, the readings below the
 *    applied offset). A Central that stops cleanly writes everything first.
 *
 * Only with Kafka (offset tracking): the in-process bus keeps nothing across a restart to read
 * again, and writes every reading as it comes.
 */
import { partsOf, rowsOf } from "../../db/client.ts";
import { againOnConflict } from "../../db/unavailable.ts";
import type { CentralContext } from "./context.ts";
import { type ReadingRow, readingsUpdate } from "./cp-events.ts";
import { sampleDue, samplesKept } from "./samples.ts";

/** A session's newest reading not written yet, and where its message lies on the bus. */
export interface HeldReading {
  sessionId: string;
  cpId: string;
  powerKw: number;
  energyKwh: number;
  costEur: number;
  /** the reading's sequence (the session row's last_telemetry_seq once written) */
  seq: number;
  /** when the charger took it (ISO 8601) */
  at: string;
  /** "topic:partition" of its message, and its offset */
  partition: string;
  offset: bigint;
  /** when the session's row first had a reading waiting here (since it was last written) */
  since: number;
}

export function partitionKeyOf(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** Most rows one write of due readings updates. */
const WRITE_CHUNK = 5000;

interface PartitionHeld {
  /** Its sessions' readings, in the order they were held. */
  readings: Map<string, HeldReading>;
  /** Offset of the last reading held; while each comes after it, the first held is the earliest. */
  last: bigint;
  inOrder: boolean;
}

export class HeldReadings {
  private bySession = new Map<string, HeldReading>();
  private byPartition = new Map<string, PartitionHeld>();

  constructor(
    /** How long a reading may wait before its row is written (ms). */
    readonly intervalMs: number,
  ) {}

  get size(): number {
    return this.bySession.size;
  }

  get(sessionId: string): HeldReading | undefined {
    return this.bySession.get(sessionId);
  }

  /**
   * Keeps a session's newest reading (one not newer than the one held changes nothing). Held in
   * the order of their offsets, a partition's earliest is found at once (see keepFrom).
   */
  hold(reading: Omit<HeldReading, "since">, now = Date.now()): void {
    const prev = this.bySession.get(reading.sessionId);
    if (prev && prev.seq >= reading.seq) return;
    if (prev) this.byPartition.get(prev.partition)?.readings.delete(prev.sessionId);
    const held: HeldReading = { ...reading, since: prev?.since ?? now };
    this.bySession.set(held.sessionId, held);
    let p = this.byPartition.get(held.partition);
    if (!p) this.byPartition.set(held.partition, (p = { readings: new Map(), last: held.offset, inOrder: true }));
    if (held.offset < p.last) p.inOrder = false;
    p.last = held.offset;
    p.readings.set(held.sessionId, held);
  }

  /**
   * The offset of the earliest message of a partition whose reading is not written yet: where
   * the partition must be read again from after a restart. Undefined: nothing waits.
   */
  keepFrom(topic: string, partition: number): bigint | undefined {
    const p = this.byPartition.get(partitionKeyOf(topic, partition));
    if (!p || p.readings.size === 0) return undefined;
    if (p.inOrder) return p.readings.values().next().value!.offset;
    let earliest: bigint | undefined;
    for (const held of p.readings.values()) if (earliest === undefined || held.offset < earliest) earliest = held.offset;
    return earliest;
  }

  /** Readings that have waited the interval (or all of them). */
  due(now = Date.now(), all = false): HeldReading[] {
    const out: HeldReading[] = [];
    for (const held of this.bySession.values()) if (all || now - held.since >= this.intervalMs) out.push(held);
    return out;
  }

  /**
   * A session's row now has its reading up to `seq` (written, or the session closed with it):
   * the reading held for it goes, unless a newer one came meanwhile.
   */
  written(sessionId: string, seq: number): void {
    const held = this.bySession.get(sessionId);
    if (!held || held.seq > seq) return;
    this.bySession.delete(sessionId);
    const p = this.byPartition.get(held.partition);
    p?.readings.delete(sessionId);
    if (p?.readings.size === 0) this.byPartition.delete(held.partition);
  }
}

/**
 * Writes held readings to their sessions' rows (each only where it is newer than the row's and
 * the session is still in progress at that CP), keeping those due as samples for the charts in
 * the same statement. A row a batch holds locked now is skipped and tried at the next write.
 */
export async function writeHeld(ctx: CentralContext, store: HeldReadings, held: HeldReading[]): Promise<void> {
  for (const chunk of partsOf(held, WRITE_CHUNK)) {
    const now = Date.now();
    const rows: ReadingRow[] = chunk.map((h) => ({
      id: h.sessionId,
      cp: h.cpId,
      p: h.powerKw,
      e: h.energyKwh,
      c: h.costEur,
      q: h.seq,
      m: h.seq,
      t: h.at,
      k: sampleDue(h.sessionId, now),
    }));
    // Rows a batch holds locked now are skipped (never waited for), and tried at the next write.
    const result = await againOnConflict(() => ctx.db.execute(readingsUpdate(rows, { skipLocked: true })));
    const answered = rowsOf<{ session_id: string; k: boolean; written: boolean; done: boolean }>(result);
    const kept = answered.filter((r) => r.k && r.written).map((r) => r.session_id);
    if (kept.length) samplesKept(kept, now);
    // Written, or no longer to be written (closed, further on already, no such session): done with.
    const done = new Set(answered.filter((r) => r.done).map((r) => r.session_id));
    for (const h of chunk) if (done.has(h.sessionId)) store.written(h.sessionId, h.seq);
  }
}

/**
 * Writes the readings that have waited the interval, a few times per interval, until stopped;
 * `stop` writes everything still held (Central is stopping: its last commits then go past them).
 */
export function startHeldWriter(ctx: CentralContext, held: HeldReadings): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const write = (all: boolean) => {
    if (running) return running;
    const due = held.due(Date.now(), all);
    if (due.length === 0) return Promise.resolve();
    running = writeHeld(ctx, held, due)
      .catch((err: unknown) => {
        // They stay held (and their partitions' commits stay before them): tried again next time.
        ctx.log.warn("could not write held readings now; trying again", { count: due.length, err });
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void write(false), Math.max(50, held.intervalMs / 4));
  timer.unref?.();
  return {
    async stop() {
      clearInterval(timer);
      while (running) await running;
      // Rows a batch held locked were skipped: a few more tries for those.
      for (let tries = 0; tries < 5 && held.size > 0; tries++) await write(true);
      if (held.size > 0) ctx.log.warn("readings left unwritten at stop; the next Central reads them again from the bus", { count: held.size });
    },
  };
}
