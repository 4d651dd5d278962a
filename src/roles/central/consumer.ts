/**
 * Central's bus consumer: one handler for the batches of every topic Central reads. A batch is
 * decoded (envelopes opened, JSON validated) outside the database, then applied in ONE
 * transaction together with its applied offset, its accepted sequence numbers and its audit
 * entries; answers and commands leave through the outbox after the commit.
 *
 * Bad messages are audited and dropped (never thrown: that would stall the partition). Only a
 * transient failure (the database is down) throws, and the bus delivers the batch again.
 */
import type { BatchHandler, BusMessage } from "../../bus/bus.ts";
import { parseControlMessage, type ControlMessage } from "../../bus/control-messages.ts";
import { cpEventSchema, driverRequestSchema, nowIso, parseJson, validate, type CpEvent, type DriverRequest, type Refused } from "../../bus/messages.ts";
import { textDecoder } from "../../bus/bus.ts";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import type { Inbound } from "./channel.ts";
import type { CentralContext } from "./context.ts";
import { applyControl } from "./control.ts";
import { CpEventBatch } from "./cp-events.ts";
import { AppliedOffsets, type PartitionRef } from "./offsets.ts";
import { handleChargeRequest, handleStopRequest } from "./requests.ts";
import { BatchSequences } from "./sequences.ts";
import { applyProbe, PROBE_HEADER } from "./sweeper.ts";
import { inWork, type Work } from "./work.ts";

type Item =
  | { kind: "cp"; offset?: bigint; cpId: string; header: EnvelopeHeader; event: CpEvent }
  | { kind: "bad_cp_payload"; offset?: bigint; cpId: string; header: EnvelopeHeader; reason: string }
  | { kind: "driver"; offset?: bigint; request: DriverRequest }
  | { kind: "bad_driver_request"; offset?: bigint; key: string; reason: string; replyTo?: { driverId: string; requestId: string } }
  | { kind: "control"; offset?: bigint; message: ControlMessage }
  | { kind: "bad_control"; offset?: bigint; key: string }
  | { kind: "probe"; offset?: bigint; cpId: string };

export function createBatchHandler(ctx: CentralContext): BatchHandler {
  const offsets = new AppliedOffsets();
  const seen = new Set<string>();
  return async (messages) => {
    const first = messages[0];
    if (!first) return;
    const ref: PartitionRef = { group: ctx.settings.group, topic: first.topic, partition: first.partition ?? 0 };
    if (!seen.has(`${ref.topic}/${ref.partition}`)) {
      seen.add(`${ref.topic}/${ref.partition}`);
      ctx.log.info("applying partition", { topic: ref.topic, partition: ref.partition, instance: ctx.settings.instance });
    }
    const track = ctx.settings.trackOffsets && first.offset !== undefined;
    let todo = messages;
    if (track) {
      const next = await offsets.peek(ctx.db, ref);
      todo = messages.filter((m) => m.offset === undefined || m.offset >= next);
      if (todo.length < messages.length) ctx.log.debug("skipping messages applied before", { topic: ref.topic, partition: ref.partition, count: messages.length - todo.length });
      if (todo.length === 0) return;
    }
    const items = await decode(ctx, todo);
    const last = todo[todo.length - 1]!.offset;
    try {
      await inWork(ctx, async (work) => {
        let apply = items;
        if (track) {
          const next = await offsets.lock(work.tx, ref);
          apply = items.filter((i) => i.offset === undefined || i.offset >= next);
        }
        await applyItems(work, apply);
        if (track && last !== undefined) {
          await offsets.advance(work.tx, ref, last + 1n);
          work.afterCommit(() => offsets.remember(ref, last + 1n));
        }
      });
    } catch (err) {
      offsets.forget(ref);
      ctx.log.warn("batch not applied; the bus delivers it again", { topic: ref.topic, partition: ref.partition, count: todo.length, err });
      throw err;
    }
  };
}

async function decode(ctx: CentralContext, messages: BusMessage[]): Promise<Item[]> {
  const isProbe = (m: BusMessage) => m.topic === ctx.topics.cpEvents && m.headers?.[PROBE_HEADER] === "1";
  // Envelopes are opened together: one read of the accepted sequences for the whole batch.
  const sealed = messages.filter((m) => m.topic === ctx.topics.cpEvents && !isProbe(m));
  const opened = new Map<BusMessage, Inbound<unknown>>();
  if (sealed.length) {
    const results = await ctx.channel.openBatchFromCp(sealed); // a refused envelope is audited by the channel
    sealed.forEach((m, i) => opened.set(m, results[i]!));
  }
  const items: Item[] = [];
  for (const m of messages) {
    if (isProbe(m)) {
      if (/^[A-Za-z0-9_.-]{1,64}$/.test(m.key)) items.push({ kind: "probe", offset: m.offset, cpId: m.key });
    } else if (m.topic === ctx.topics.cpEvents) {
      const o = opened.get(m);
      if (!o?.ok) continue;
      const event = validate(cpEventSchema, o.payload);
      items.push(
        event.ok
          ? { kind: "cp", offset: m.offset, cpId: o.cpId, header: o.header, event: event.value }
          : { kind: "bad_cp_payload", offset: m.offset, cpId: o.cpId, header: o.header, reason: event.reason },
      );
    } else if (m.topic === ctx.topics.driverRequests) {
      const request = parseJson(driverRequestSchema, m.value);
      items.push(request.ok ? { kind: "driver", offset: m.offset, request: request.value } : { kind: "bad_driver_request", offset: m.offset, key: m.key, reason: request.reason, replyTo: replyAddress(m.value) });
    } else if (m.topic === ctx.topics.centralControl) {
      const message = parseControlMessage(m.value);
      items.push(message ? { kind: "control", offset: m.offset, message } : { kind: "bad_control", offset: m.offset, key: m.key });
    }
  }
  return items;
}

/** Who to tell that their request was malformed, when that much can be read. */
function replyAddress(value: Uint8Array): { driverId: string; requestId: string } | undefined {
  try {
    const raw = JSON.parse(textDecoder.decode(value)) as { driver_id?: unknown; request_id?: unknown };
    if (typeof raw.driver_id === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(raw.driver_id) && typeof raw.request_id === "string" && raw.request_id.length <= 100)
      return { driverId: raw.driver_id, requestId: raw.request_id };
  } catch {
    // not JSON: nobody to answer
  }
  return undefined;
}

async function applyItems(work: Work, items: Item[]): Promise<void> {
  const sequences = new BatchSequences();
  const events = new CpEventBatch(work);
  for (const item of items) {
    if (item.kind === "cp") {
      if (!sequences.take(item.header)) continue; // a second copy within the batch
      await events.add(item.cpId, item.header.seq, item.event);
      continue;
    }
    await events.flush(); // keep the order of telemetry relative to everything else
    await applyOther(work, item, sequences);
  }
  await events.flush();
  await sequences.persist(work.tx);
}

async function applyOther(work: Work, item: Exclude<Item, { kind: "cp" }>, sequences: BatchSequences): Promise<void> {
  switch (item.kind) {
    case "driver":
      return item.request.type === "charge_request" ? handleChargeRequest(work, item.request) : handleStopRequest(work, item.request);
    case "control":
      return applyControl(work, item.message);
    case "probe":
      return applyProbe(work, item.cpId);
    case "bad_cp_payload":
      sequences.take(item.header);
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
        resource: cpResource(item.key.slice(0, 64)),
        action: "request",
        outcome: "failure",
        reason: `invalid request: ${item.reason}`,
      });
      if (item.replyTo) {
        const refused: Refused = { type: "refused", request_id: item.replyTo.requestId, driver_id: item.replyTo.driverId, cp_id: item.key.slice(0, 64), code: "invalid_request", reason: item.reason, at: nowIso() };
        work.send(work.ctx.topics.driverUpdates, { key: item.replyTo.driverId, value: JSON.stringify(refused) });
      }
      return;
    }
    case "bad_control":
      work.audit({ eventType: "error", actorType: "service", resource: null, action: "control_message", outcome: "failure", reason: "an unreadable control message was dropped", details: { key: item.key.slice(0, 100) } });
      return;
  }
}
