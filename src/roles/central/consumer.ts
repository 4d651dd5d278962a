/**
 * Central's bus consumer: one handler for the batches of every topic Central reads. A batch is
 * decoded (envelopes opened, JSON validated) outside the database, then applied in ONE
 * transaction together with its applied offset, its accepted sequence numbers and its audit
 * entries; answers and commands leave through the outbox after the commit.
 *
 * Bad messages are audited and dropped (never thrown: that would stall the partition). Only a
 * transient failure (the database is down) throws, and the bus delivers the batch again: once
 * the database answers again, so that Central resumes within a moment of its return.
 */
import type { BatchHandler, BusMessage } from "../../bus/bus.ts";
import { textDecoder } from "../../bus/bus.ts";
import { type ControlMessage, parseControlMessage } from "../../bus/control-messages.ts";
import { type CpEvent, cpEventSchema, type DriverRequest, driverRequestSchema, nowIso, parseJson, type Refused, requestIdSchema } from "../../bus/messages.ts";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import { isStoreUnavailable, isTransactionConflict, untilReachable } from "../../db/unavailable.ts";
import { isId, printable } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { validate } from "../../lib/parsed.ts";
import { settled } from "../../lib/settled.ts";
import type { Inbound } from "./channel.ts";
import type { CentralContext } from "./context.ts";
import { applyControl } from "./control.ts";
import { CpEventBatch } from "./cp-events.ts";
import { AppliedOffsets, type PartitionRef } from "./offsets.ts";
import { applyProbe, isProbe, type Probe, readProbe } from "./probes.ts";
import { handleChargeRequest, handleStopRequest } from "./requests.ts";
import { BatchSequences } from "./sequences.ts";
import { inWork, type Work } from "./work.ts";

export type Item =
  | { kind: "cp"; offset?: bigint; cpId: string; header: EnvelopeHeader; event: CpEvent }
  | { kind: "bad_cp_payload"; offset?: bigint; cpId: string; header: EnvelopeHeader; reason: string }
  | { kind: "driver"; offset?: bigint; request: DriverRequest }
  | { kind: "bad_driver_request"; offset?: bigint; key: string; reason: string; replyTo?: { driverId: string; requestId: string } }
  | { kind: "control"; offset?: bigint; message: ControlMessage }
  | { kind: "bad_control"; offset?: bigint; key: string; reason: string }
  | { kind: "probe"; offset?: bigint; cpId: string; probe: Probe };

export function createBatchHandler(ctx: CentralContext): BatchHandler {
  const offsets = new AppliedOffsets();
  const seen = new Set<string>();
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
    const done = (n: number) => {
      ctx.metrics?.applied(ref.topic, n);
      ctx.metrics?.batchSeconds((performance.now() - started) / 1000);
    };
    if (!ctx.settings.trackOffsets || first.offset === undefined || last === undefined) {
      const items = await decode(ctx, messages);
      await inWork(ctx, (work) => applyItems(work, items));
      done(items.length);
      return;
    }
    let next = await offsets.peek(ctx.db, ref);
    let todo = messages.filter((m) => m.offset === undefined || m.offset >= next);
    if (todo.length < messages.length)
      ctx.log.debug("skipping messages applied before", { topic: ref.topic, partition: ref.partition, count: messages.length - todo.length });
    if (todo.length === 0) return;
    try {
      // The partition's row is locked, the batch applied and the offset advanced in one go
      // (pipelined), expecting the offset last seen. Should another instance have applied part
      // of the batch meanwhile (a handover), the row says so: all of it is undone, and what is
      // left is opened again (against the sequences that instance accepted) and applied.
      let conflicts = 0;
      for (;;) {
        const expected = next;
        const known = offsets.sequencesAt(ref, expected);
        const items = await decode(ctx, todo, known);
        const moved = await inWork(ctx, async (work) => {
          const [locked] = await settled([offsets.lock(work.tx, ref), applyItems(work, items), offsets.advance(work.tx, ref, last + 1n)]);
          if (locked !== expected) throw new OffsetMoved(locked);
          work.afterCommit(() => offsets.remember(ref, last + 1n, known));
        }).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof OffsetMoved) return err.next;
            // PostgreSQL undid the transaction to break a deadlock (or a serialization
            // conflict) with another one: nothing of it stayed, so it is simply done again.
            if (isTransactionConflict(err) && conflicts++ < MAX_CONFLICT_RETRIES) return CONFLICT;
            throw err;
          },
        );
        if (moved === undefined) return done(items.length);
        offsets.forget(ref);
        if (moved === CONFLICT) {
          ctx.log.debug("batch undone by a lock conflict; applying it again", { topic: ref.topic, partition: ref.partition });
          const opened = new Set(items.map((i) => i.offset));
          next = await offsets.peek(ctx.db, ref);
          todo = todo.filter((m) => m.offset !== undefined && m.offset >= next && opened.has(m.offset));
          if (todo.length === 0) return;
          continue;
        }
        if (moved > last) return; // all of it was applied by the other instance
        next = moved;
        // Refused envelopes were audited already, and stay refused: only the rest is opened again.
        const opened = new Set(items.map((i) => i.offset));
        todo = todo.filter((m) => m.offset !== undefined && m.offset >= moved && opened.has(m.offset));
      }
    } catch (err) {
      offsets.forget(ref);
      ctx.log.warn("batch not applied; the bus delivers it again", { topic: ref.topic, partition: ref.partition, count: todo.length, err });
      throw err;
    }
  };
  return (messages) => apply(messages).catch(afterOutage(ctx));
}

/** Rethrows, after waiting for the database to answer again when it was what failed. */
function afterOutage(ctx: CentralContext) {
  return async (err: unknown): Promise<never> => {
    if (isStoreUnavailable(err)) await untilReachable(ctx.db);
    throw err;
  };
}

/** A batch PostgreSQL undid to break a deadlock is applied again, a few times at most. */
const MAX_CONFLICT_RETRIES = 5;
const CONFLICT = Symbol("conflict");

/** The partition's applied offset was not the one expected: the transaction is undone. */
class OffsetMoved extends Error {
  constructor(readonly next: bigint) {
    super(`the partition's applied offset moved to ${next}`);
  }
}

async function decode(ctx: CentralContext, messages: BusMessage[], known?: Map<string, number>): Promise<Item[]> {
  // Envelopes are opened together: one read of the accepted sequences for the whole batch.
  const sealed = messages.filter((m) => m.topic === ctx.topics.cpEvents && !isProbe(m));
  const opened = new Map<BusMessage, Inbound<unknown>>();
  if (sealed.length) {
    const results = await ctx.channel.openBatchFromCp(sealed, known); // a refused envelope is audited by the channel
    for (const [i, m] of sealed.entries()) opened.set(m, results[i]!);
  }
  const items: Item[] = [];
  for (const m of messages) {
    if (m.topic === ctx.topics.cpEvents && isProbe(m)) {
      const probe = readProbe(m);
      if (probe) items.push({ kind: "probe", offset: m.offset, cpId: probe.cpId, probe });
    } else if (m.topic === ctx.topics.cpEvents) {
      const o = opened.get(m);
      if (!o?.ok) {
        if (o) ctx.metrics?.refused(o.code);
        continue;
      }
      const event = validate(cpEventSchema, o.payload);
      if (!event.ok) ctx.metrics?.refused("invalid_payload");
      items.push(
        event.ok
          ? { kind: "cp", offset: m.offset, cpId: o.cpId, header: o.header, event: event.value }
          : { kind: "bad_cp_payload", offset: m.offset, cpId: o.cpId, header: o.header, reason: event.reason },
      );
    } else if (m.topic === ctx.topics.driverRequests) {
      const request = parseJson(driverRequestSchema, m.value);
      if (!request.ok) ctx.metrics?.refused("invalid_request");
      items.push(
        request.ok
          ? { kind: "driver", offset: m.offset, request: request.value }
          : { kind: "bad_driver_request", offset: m.offset, key: m.key, reason: request.reason, replyTo: replyAddress(m.value) },
      );
    } else if (m.topic === ctx.topics.centralControl) {
      const message = parseControlMessage(m.value);
      if (!message.ok) ctx.metrics?.refused("invalid_control");
      items.push(
        message.ok
          ? { kind: "control", offset: m.offset, message: message.value }
          : { kind: "bad_control", offset: m.offset, key: m.key, reason: message.reason },
      );
    }
  }
  return items;
}

/** Who to tell that their request was malformed, when that much can be read. */
function replyAddress(value: Uint8Array): { driverId: string; requestId: string } | undefined {
  try {
    const raw = JSON.parse(textDecoder.decode(value)) as { driver_id?: unknown; request_id?: unknown };
    const requestId = validate(requestIdSchema, raw.request_id);
    if (isId(raw.driver_id) && requestId.ok) return { driverId: raw.driver_id, requestId: requestId.value };
  } catch {
    // not JSON: nobody to answer
  }
  return undefined;
}

/**
 * Applies a batch's items. Only one CP's own items (and one driver's) must keep their order: the
 * readings and heartbeats of CPs that sent nothing else are written together, and each CP (with
 * the drivers it meets) that did send something else is applied in order on its own, alongside
 * the others, in the same transaction (its statements are pipelined on the one connection, so
 * one CP's session start no longer waits behind another's ticket). A control message may touch
 * any CP, so a batch holding one is applied strictly in order.
 */
async function applyItems(work: Work, items: Item[]): Promise<void> {
  const sequences = new BatchSequences();
  // A second copy of a message within the batch is dropped, in arrival order, before any split.
  const kept = items.filter((i) => {
    if (i.kind === "bad_cp_payload") sequences.take(i.header); // its sequence is used up; it is audited below
    return i.kind !== "cp" || sequences.take(i.header);
  });
  const { readings, chains } = splitByCp(kept);
  const events = new CpEventBatch(work);
  for (const r of readings) await events.add(r.cpId, r.header.seq, r.event);
  await settled([sequences.persist(work.tx), events.flush(), ...inParallel(chains, CHAINS_AT_ONCE, (chain) => applyInOrder(work, chain))]);
}

/** How many CPs' ordered items one transaction applies at once. */
const CHAINS_AT_ONCE = 16;

type CpItem = Extract<Item, { kind: "cp" }>;

const isReading = (i: Item): i is CpItem => i.kind === "cp" && (i.event.type === "telemetry" || i.event.type === "heartbeat");

/** What an item touches, for keeping the order of items that share a CP or a driver; undefined: it may touch anything. */
function touches(i: Item): string[] | undefined {
  switch (i.kind) {
    case "cp":
    case "bad_cp_payload":
    case "probe":
      return [`cp:${i.cpId}`];
    case "driver":
      return [`cp:${i.request.cp_id}`, `driver:${i.request.driver_id}`];
    case "bad_driver_request":
      return [];
    case "control":
    case "bad_control":
      return undefined;
  }
}

/**
 * Splits a batch into the readings of CPs that sent only readings (written together) and
 * chains of items that must stay in order among themselves (items sharing a CP or a driver).
 */
export function splitByCp(items: Item[]): { readings: CpItem[]; chains: Item[][] } {
  const all = items.map(touches);
  if (all.some((t) => t === undefined)) return { readings: [], chains: items.length ? [items] : [] };
  // CPs with something other than readings are applied in order; their readings go with them.
  const ordered = new Set<string>();
  items.forEach((i, n) => {
    if (!isReading(i)) for (const t of all[n]!) ordered.add(t);
  });
  const readings: CpItem[] = [];
  const parent = new Map<string, string>();
  const root = (k: string): string => {
    let r = k;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  const chainOf = new Map<string, Item[]>();
  const order: Item[][] = [];
  const rest: [Item, string[]][] = [];
  items.forEach((i, n) => {
    const t = all[n]!;
    if (isReading(i) && !ordered.has(t[0]!)) readings.push(i);
    else rest.push([i, t]);
  });
  for (const [, t] of rest) for (const k of t.slice(1)) parent.set(root(k), root(t[0]!));
  for (const [i, t] of rest) {
    if (t.length === 0) {
      order.push([i]);
      continue;
    }
    const r = root(t[0]!);
    let chain = chainOf.get(r);
    if (!chain) {
      chainOf.set(r, (chain = []));
      order.push(chain);
    }
    chain.push(i);
  }
  return { readings, chains: order };
}

async function applyInOrder(work: Work, items: Item[]): Promise<void> {
  const events = new CpEventBatch(work);
  for (const item of items) {
    if (item.kind === "cp") {
      await events.add(item.cpId, item.header.seq, item.event);
      continue;
    }
    await events.flush(); // keep the order of readings relative to everything else
    await applyOther(work, item);
  }
  await events.flush();
}

/** Runs `fn` over `items`, at most `limit` at a time; one promise per worker. */
function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void>[] {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  return Array.from({ length: Math.min(limit, items.length) }, worker);
}

async function applyOther(work: Work, item: Exclude<Item, { kind: "cp" }>): Promise<void> {
  switch (item.kind) {
    case "driver":
      return item.request.type === "charge_request" ? handleChargeRequest(work, item.request) : handleStopRequest(work, item.request);
    case "control":
      return applyControl(work, item.message);
    case "probe":
      return applyProbe(work, item.probe);
    case "bad_cp_payload":
      work.audit({
        eventType: "security",
        actorType: "cp",
        actorId: item.cpId,
        resource: cpResource(item.cpId),
        action: "apply_message",
        outcome: "failure",
        reason: `invalid payload: ${item.reason}`,
        details: { sender: item.header.sender, seq: item.header.seq },
      });
      return;
    case "bad_driver_request": {
      work.audit({
        eventType: "request",
        actorType: "driver",
        actorId: item.replyTo?.driverId ?? null,
        resource: cpResource(printable(item.key)),
        action: "request",
        outcome: "failure",
        reason: `invalid request: ${item.reason}`,
      });
      if (item.replyTo) {
        const refused: Refused = {
          type: "refused",
          request_id: item.replyTo.requestId,
          driver_id: item.replyTo.driverId,
          cp_id: printable(item.key),
          code: "invalid_request",
          reason: item.reason,
          at: nowIso(),
        };
        work.send(work.ctx.topics.driverUpdates, { key: item.replyTo.driverId, value: JSON.stringify(refused) });
      }
      return;
    }
    case "bad_control":
      work.audit({
        eventType: "error",
        actorType: "service",
        resource: null,
        action: "control_message",
        outcome: "failure",
        reason: `an unreadable control message was dropped: ${item.reason}`,
        details: { key: printable(item.key, 100) },
      });
      return;
  }
}
