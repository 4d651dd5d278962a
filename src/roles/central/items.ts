/**
 * What Central makes of a batch: each message decoded (envelopes opened, JSON validated) into an
 * item outside the database, then the items applied in one unit of work. A message that cannot
 * be decoded is audited; one whose data is invalid is also set aside as a dead letter. Nothing
 * here throws for a bad message: only a failure of the database does.
 */
import type { BusMessage } from "../../bus/bus.ts";
import { textDecoder } from "../../bus/bus.ts";
import type { ControlMessage } from "../../bus/control-messages.ts";
import { type CpEvent, cpEventSchema, type DriverRequest, driverRequestSchema, nowIso, type Refused, requestIdSchema } from "../../bus/messages.ts";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import type { SignedHeader } from "../../crypto/signed-messages.ts";
import { claimReplay, findDeadLetter } from "../../db/repos/dead-letters.ts";
import { replayOf } from "../../dead-letters/messages.ts";
import { isId, printable } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { validate } from "../../lib/parsed.ts";
import { settled } from "../../lib/settled.ts";
import type { Inbound } from "./channel.ts";
import type { CentralContext } from "./context.ts";
import { applyControl } from "./control.ts";
import { type CheckedControl, firstSighting } from "./control-gate.ts";
import { CpEventBatch, type ReadingEvent } from "./cp-events.ts";
import { tellDriver } from "./driver-updates.ts";
import { applyProbe, applySilenceProbes, isProbe, type Probe, readProbe } from "./probes.ts";
import { handleChargeRequest, handleStopRequest } from "./requests.ts";
import { BatchSequences } from "./sequences.ts";
import type { Work } from "./work.ts";

/** `pair`: an envelope's key and sender, as `sequencePairKey` names them (what its sequence is kept by). */
type ItemBody =
  | { kind: "cp"; cpId: string; header: EnvelopeHeader; pair: string; event: CpEvent }
  | { kind: "bad_cp_payload"; cpId: string; header: EnvelopeHeader; pair: string; reason: string }
  | { kind: "driver"; request: DriverRequest; header: EnvelopeHeader; pair: string }
  | { kind: "bad_driver_request"; key: string; header: EnvelopeHeader; pair: string; driverId: string; reason: string; requestId?: string }
  | { kind: "control"; message: ControlMessage; signed: SignedHeader }
  | { kind: "bad_control"; key: string; signed: SignedHeader; reason: string }
  | { kind: "probe"; cpId: string; probe: Probe };

/** A decoded message, with the message it came from; `replayOf`: the dead letter it replays. */
export type Item = ItemBody & { source: BusMessage; replayOf?: number };

/**
 * Decodes a batch. `known` holds senders' last accepted sequences, as the channel's
 * `openBatchFromCp` takes them. A replayed dead letter is decoded only while an operator's
 * replay of it is pending (else it is refused and audited); its sequence is not checked again.
 */
export async function decode(ctx: CentralContext, messages: BusMessage[], known?: Map<string, number>): Promise<Item[]> {
  const { cpEvents, driverRequests, centralControl } = ctx.topics;
  const replays = await pendingReplays(ctx, messages);
  const wanted = messages.filter((m) => replayOf(m.headers) === undefined || replays.has(m));
  const probe = wanted.map((m) => m.topic === cpEvents && isProbe(m));
  // Envelopes (CPs' events, drivers' requests) are opened together: one read of the accepted
  // sequences for the whole batch.
  const sealedAt: number[] = [];
  for (const [i, m] of wanted.entries()) if ((m.topic === cpEvents && !probe[i]) || m.topic === driverRequests) sealedAt.push(i);
  const opened: (Inbound<unknown> | undefined)[] = [];
  if (sealedAt.length) {
    // a refused envelope is audited by the channel
    const results = await ctx.channel.openBatch(
      sealedAt.map((i) => wanted[i]!),
      known,
      new Set(replays.keys()),
    );
    for (const [j, i] of sealedAt.entries()) opened[i] = results[j];
  }
  const items: Item[] = [];
  for (const [i, m] of wanted.entries()) {
    // Control messages are checked (signature, age) one by one; a refused one is audited by the gate.
    const control = m.topic === centralControl ? await ctx.controls.check(m, replays.has(m)) : undefined;
    const item = itemOf(ctx, m, opened[i], control, probe[i]!);
    if (!item) continue;
    if (item.kind === "driver" && item.request.driver_id !== item.header.sub.slice("driver:".length)) {
      await refuseImpersonation(ctx, m, item);
      continue;
    }
    const replay = replays.get(m);
    if (replay !== undefined) item.replayOf = replay;
    items.push(item);
  }
  return items;
}

/** A driver's request sealed with one driver's key that names another: refused and audited, whatever it asks. */
async function refuseImpersonation(ctx: CentralContext, m: BusMessage, item: Extract<ItemBody, { kind: "driver" }>): Promise<void> {
  const sealedBy = item.header.sub.slice("driver:".length);
  await ctx.auditor.record({
    eventType: "security",
    actorType: "driver",
    actorId: sealedBy,
    resource: cpResource(item.request.cp_id),
    action: "open_message",
    outcome: "failure",
    reason: `driver_mismatch: a request sealed by driver ${sealedBy} claims to be driver ${item.request.driver_id}'s`,
    sourceAddress: `kafka:${m.topic}/${m.partition ?? "?"}@${m.offset ?? "?"}`,
    details: { code: "driver_mismatch", key_id: item.header.kid, request_id: item.request.request_id },
  });
}

/** The item a message makes (`source: m`), or undefined when there is nothing to apply (refused, and audited where it was refused). */
function itemOf(
  ctx: CentralContext,
  m: BusMessage,
  opened: Inbound<unknown> | undefined,
  control: CheckedControl | undefined,
  probe: boolean,
): Item | undefined {
  if (probe) {
    const read = readProbe(m);
    return read && { kind: "probe", cpId: read.cpId, probe: read, source: m };
  }
  if (m.topic === ctx.topics.cpEvents) {
    if (!opened?.ok) {
      if (opened) ctx.metrics?.refused(opened.code);
      return undefined;
    }
    const event = validate(cpEventSchema, opened.payload);
    if (!event.ok) ctx.metrics?.refused("invalid_payload");
    return event.ok
      ? { kind: "cp", cpId: opened.subject.id, header: opened.header, pair: opened.pair, event: event.value, source: m }
      : { kind: "bad_cp_payload", cpId: opened.subject.id, header: opened.header, pair: opened.pair, reason: event.reason, source: m };
  }
  if (m.topic === ctx.topics.driverRequests) {
    if (!opened?.ok) {
      if (opened) ctx.metrics?.refused(opened.code);
      return undefined;
    }
    const request = validate(driverRequestSchema, opened.payload);
    if (request.ok) return { kind: "driver", request: request.value, header: opened.header, pair: opened.pair, source: m };
    ctx.metrics?.refused("invalid_request");
    const requestId = validate(requestIdSchema, (opened.payload as { request_id?: unknown } | null)?.request_id);
    return {
      kind: "bad_driver_request",
      key: m.key,
      header: opened.header,
      pair: opened.pair,
      driverId: opened.subject.id,
      reason: request.reason,
      requestId: requestId.ok ? requestId.value : undefined,
      source: m,
    };
  }
  if (m.topic === ctx.topics.centralControl) {
    if (control?.kind === "refused") ctx.metrics?.refused(control.code);
    if (control?.kind === "control") return { kind: "control", message: control.message, signed: control.signed, source: m };
    if (control?.kind === "not_a_control") {
      ctx.metrics?.refused("invalid_control");
      return { kind: "bad_control", key: m.key, signed: control.signed, reason: control.reason, source: m };
    }
  }
  return undefined;
}

/**
 * The replayed copies in a batch whose replay an operator asked for, with the letter each
 * replays. Any other copy claiming to replay a letter is refused and audited: only an
 * operator's replay may bypass the checks a replay would otherwise fail (its sequence is old).
 */
async function pendingReplays(ctx: CentralContext, messages: BusMessage[]): Promise<Map<BusMessage, number>> {
  const pending = new Map<BusMessage, number>();
  for (const m of messages) {
    const id = replayOf(m.headers);
    if (id === undefined) continue;
    const letter = await findDeadLetter(ctx.db, id);
    const genuine =
      letter?.status === "replaying" &&
      letter.topic === m.topic &&
      Buffer.from(letter.value).equals(Buffer.from(m.value)) &&
      textDecoder.decode(letter.key) === m.key;
    if (genuine) {
      pending.set(m, id);
      continue;
    }
    await ctx.auditor.record({
      eventType: "security",
      actorType: "system",
      resource: `dead-letter/${id}`,
      action: "replay_message",
      outcome: "failure",
      reason: letter ? `a copy of dead letter ${id} that no operator's replay is waiting for (${letter.status})` : `no dead letter ${id}`,
      sourceAddress: `kafka:${m.topic}/${m.partition ?? "?"}@${m.offset ?? "?"}`,
    });
  }
  return pending;
}

/**
 * Applies a batch's items. Only one CP's own items (and one driver's) must keep their order: the
 * readings and heartbeats of CPs that sent nothing else are written together, and each CP (with
 * the drivers it meets) that did send something else is applied in order on its own, alongside
 * the others, in the same transaction (its statements are pipelined on the one connection, so
 * one CP's session start no longer waits behind another's ticket). A control message may touch
 * any CP, so a batch holding one is applied strictly in order.
 */
export async function applyItems(work: Work, items: Item[]): Promise<void> {
  const sequences = new BatchSequences();
  const claimed = await claimReplays(work, items);
  // A second copy of a message within the batch is dropped, in arrival order, before any split.
  // A replayed letter's sequence was used up when it was set aside: it is not taken again.
  const kept = claimed.filter((i) => {
    if (i.replayOf !== undefined) return true;
    if (i.kind === "bad_cp_payload" || i.kind === "bad_driver_request") sequences.take(i.header, i.pair); // its sequence is used up; it is audited below
    return (
      (i.kind !== "cp" && i.kind !== "driver") ||
      sequences.take(i.header, i.pair, i.kind === "cp" && (i.event.type === "telemetry" || i.event.type === "heartbeat"))
    );
  });
  const { readings, silence, chains } = splitByCp(kept);
  const events = new CpEventBatch(work, true);
  for (const r of readings) events.collect(r.cpId, r.header, r.event, r.source);
  await settled([
    sequences.persist(work.tx),
    events.flush().then(() =>
      applySilenceProbes(
        work,
        silence.map((i) => i.probe),
      ),
    ),
    ...inParallel(chains, CHAINS_AT_ONCE, (chain) => applyInOrder(work, chain)),
  ]);
}

/** Replayed letters are applied once: the transaction claims each (another delivery finds it claimed). */
async function claimReplays(work: Work, items: Item[]): Promise<Item[]> {
  const kept: Item[] = [];
  for (const item of items) if (item.replayOf === undefined || (await claimReplay(work.tx, item.replayOf))) kept.push(item);
  return kept;
}

/**
 * Marks a message's sequence (or a control message's id) used up in this transaction, whatever
 * becomes of the message (it is set aside): only an operator's replay can bring it back.
 */
export async function useUp(work: Work, items: Item[]): Promise<void> {
  const sequences = new BatchSequences();
  for (const i of items) {
    if (i.replayOf !== undefined) continue;
    if (i.kind === "cp" || i.kind === "bad_cp_payload" || i.kind === "driver" || i.kind === "bad_driver_request") sequences.take(i.header, i.pair);
    if (i.kind === "control" || i.kind === "bad_control") await firstSighting(work.tx, i.signed);
  }
  await sequences.persist(work.tx);
}

/** How many CPs' ordered items one transaction applies at once. */
const CHAINS_AT_ONCE = 16;

type CpItem = Extract<Item, { kind: "cp" }>;
type ReadingItem = CpItem & { event: ReadingEvent };
type SilenceProbeItem = Extract<Item, { kind: "probe" }> & { probe: { kind: "silence" } };

const isReading = (i: Item): i is ReadingItem => i.kind === "cp" && (i.event.type === "telemetry" || i.event.type === "heartbeat");
const isSilenceProbe = (i: Item): i is SilenceProbeItem => i.kind === "probe" && i.probe.kind === "silence";

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
      return [`driver:${i.driverId}`];
    case "control":
    case "bad_control":
      return undefined;
  }
}

/**
 * Splits a batch into the readings of CPs that sent only readings (written together), the
 * silence probes of those CPs (checked together once their readings are written) and chains of
 * items that must stay in order among themselves (items sharing a CP or a driver).
 */
export function splitByCp(items: Item[]): { readings: ReadingItem[]; silence: SilenceProbeItem[]; chains: Item[][] } {
  const all = items.map(touches);
  if (all.some((t) => t === undefined)) return { readings: [], silence: [], chains: items.length ? [items] : [] };
  // CPs with something other than readings are applied in order; their readings go with them.
  // A silence probe does not need that: it asks whether a heartbeat was applied since, and a
  // heartbeat that came after it in the batch says the CP is heard from all the same.
  const ordered = new Set<string>();
  items.forEach((i, n) => {
    if (!isReading(i) && !isSilenceProbe(i)) for (const t of all[n]!) ordered.add(t);
  });
  const readings: ReadingItem[] = [];
  const silence: SilenceProbeItem[] = [];
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
    else if (isSilenceProbe(i) && !ordered.has(t[0]!)) silence.push(i);
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
  return { readings, silence, chains: order };
}

async function applyInOrder(work: Work, items: Item[]): Promise<void> {
  const events = new CpEventBatch(work);
  for (const item of items) {
    if (item.kind === "cp") {
      await events.add(item.cpId, item.header, item.event, item.source);
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
      return item.request.type === "charge_request"
        ? handleChargeRequest(work, item.request, item.header.kid)
        : handleStopRequest(work, item.request, item.header.kid);
    case "control":
      // An operator's replay of a dead letter was used up when it was set aside: it is not a replay.
      if (item.replayOf === undefined && !(await firstSighting(work.tx, item.signed))) return refuseReplayedControl(work, item);
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
      work.setAside(item.source, { code: "validation", reason: `invalid payload: ${item.reason}` });
      return;
    case "bad_driver_request": {
      const cp = isId(item.key) ? item.key : undefined;
      work.audit({
        eventType: "request",
        actorType: "driver",
        actorId: item.driverId,
        resource: cp ? cpResource(cp) : null,
        action: "request",
        outcome: "failure",
        reason: `invalid request: ${item.reason}`,
      });
      work.setAside(item.source, { code: "validation", reason: `invalid request: ${item.reason}` });
      if (item.requestId && cp) {
        const refused: Refused = {
          type: "refused",
          request_id: item.requestId,
          driver_id: item.driverId,
          cp_id: cp,
          code: "invalid_request",
          reason: item.reason,
          at: nowIso(),
        };
        await tellDriver(work, refused, item.header.kid);
      }
      return;
    }
    case "bad_control":
      if (item.replayOf === undefined && !(await firstSighting(work.tx, item.signed))) return refuseReplayedControl(work, item);
      work.audit({
        eventType: "error",
        actorType: "service",
        resource: null,
        action: "control_message",
        outcome: "failure",
        reason: `an unreadable control message was set aside: ${item.reason}`,
        details: { key: printable(item.key, 100) },
      });
      work.setAside(item.source, { code: "validation", reason: `not a control message: ${item.reason}` });
      return;
  }
}

/** A signed control message seen before: a replay, refused and audited as an attack. */
function refuseReplayedControl(work: Work, item: Extract<Item, { kind: "control" | "bad_control" }>): void {
  const m = item.source;
  work.audit({
    eventType: "security",
    actorType: "service",
    actorId: item.signed.signer,
    resource: isId(m.key) ? cpResource(m.key) : null,
    action: "control_message",
    outcome: "failure",
    reason: `replayed: control message ${item.signed.id} was applied before`,
    sourceAddress: `kafka:${m.topic}/${m.partition ?? "?"}@${m.offset ?? "?"}`,
    details: { code: "replayed", key_id: item.signed.kid, signer: item.signed.signer, message_id: item.signed.id },
  });
}
