/**
 * Central's side of dead letters: a message that can never be applied (its data fails
 * validation, or the database refuses it for good) is stored in the transaction that moves its
 * partition past it, audited, and copied to the dead-letter topic after the commit (the sweeper
 * copies what a failed publish left behind).
 */
import type { AuditEntry } from "../../audit/audit.ts";
import { type BusMessage, textEncoder } from "../../bus/bus.ts";
import type { Db } from "../../db/client.ts";
import {
  insertDeadLetters,
  markPublished,
  markReplayFailed,
  type NewDeadLetter,
  sendRequestedReplays,
  unpublishedDeadLetters,
} from "../../db/repos/dead-letters.ts";
import type { DeadLetterRow } from "../../db/schema/index.ts";
import { deadLetterMessage, ownHeaders, replayMessage, replayOf } from "../../dead-letters/messages.ts";
import { escapeControls } from "../../domain/ids.ts";
import type { CentralContext } from "./context.ts";

/** Why a message was set aside: `validation`, a SQLSTATE, or `error`; and in words. */
export interface SetAsideFailure {
  code: string;
  reason: string;
}

const REASON_MAX = 500;

function rowOf(ctx: CentralContext, m: BusMessage, failure: SetAsideFailure): NewDeadLetter {
  return {
    consumer: ctx.settings.group,
    topic: m.topic,
    partition: m.partition ?? 0,
    offset: m.offset ?? -1n,
    key: textEncoder.encode(m.key),
    value: m.value,
    // jsonb cannot hold a NUL: a header that came with one is kept escaped.
    headers: Object.fromEntries(Object.entries(ownHeaders(m.headers)).map(([k, v]) => [escapeControls(k), escapeControls(v)])),
    code: escapeControls(failure.code).slice(0, 40),
    reason: escapeControls(failure.reason).slice(0, REASON_MAX),
    replayOf: replayOf(m.headers) ?? null,
  };
}

function auditOf(row: DeadLetterRow): AuditEntry {
  return {
    eventType: "error",
    actorType: "system",
    resource: `dead-letter/${row.id}`,
    action: "set_aside_message",
    outcome: "failure",
    reason: `${row.code}: ${row.reason}`,
    sourceAddress: `kafka:${row.topic}/${row.partition}@${row.offset}`,
    details: { dead_letter_id: row.id, topic: row.topic, partition: row.partition, offset: String(row.offset), replay_of: row.replayOf },
  };
}

/** Stores the messages set aside in this transaction; returns them with their audit entries. */
export async function storeDeadLetters(
  ctx: CentralContext,
  tx: Db,
  setAside: { message: BusMessage; failure: SetAsideFailure }[],
): Promise<{ rows: DeadLetterRow[]; audits: AuditEntry[] }> {
  const rows = await insertDeadLetters(
    tx,
    setAside.map((s) => rowOf(ctx, s.message, s.failure)),
  );
  for (const row of rows) if (row.replayOf !== null) await markReplayFailed(tx, row.replayOf);
  return { rows, audits: rows.map(auditOf) };
}

/** Copies stored dead letters to the dead-letter topic; left for the sweeper when the bus fails. */
export async function publishDeadLetters(ctx: CentralContext, rows: DeadLetterRow[]): Promise<void> {
  if (rows.length === 0) return;
  await ctx.bus.publish(ctx.topics.deadLetters, rows.map(deadLetterMessage));
  await markPublished(
    ctx.db,
    rows.map((r) => r.id),
  );
}

const REPLAY_BATCH = 100;

/** The sweeper's duty: the replays operators asked for go back to their topics. */
export async function sendReplays(ctx: CentralContext): Promise<void> {
  const sent = await sendRequestedReplays(ctx.db, REPLAY_BATCH, async (rows) => {
    for (const row of rows) await ctx.bus.publish(row.topic, [replayMessage(row)]);
  });
  if (sent) ctx.log.info("sent dead letters back to their topics, as operators asked", { count: sent });
}

const RESEND_BATCH = 200;
/** A letter younger than this is still on its way from the transaction that stored it. */
const RESEND_AFTER_S = 5;

/** The sweeper's duty: dead letters a failed publish left behind go out now. */
export async function resendDeadLetters(ctx: CentralContext): Promise<void> {
  const rows = await unpublishedDeadLetters(ctx.db, RESEND_BATCH, RESEND_AFTER_S);
  if (rows.length === 0) return;
  try {
    await publishDeadLetters(ctx, rows);
  } catch (err) {
    ctx.busHealth.failedAt = Date.now();
    throw err;
  }
}
