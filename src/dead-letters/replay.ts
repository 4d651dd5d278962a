/**
 * An operator replays a dead letter (API or `evnet central dead-letters replay`): the letter is
 * marked as awaiting its replay, and Central sends a copy back to its topic within a sweep (so
 * the API needs no right to write Central's input topics), marked with the letter's id. Central
 * applies that copy once, while the letter awaits it, without the freshness and replay checks
 * the copy would otherwise fail (its sequence was used up when it was set aside); any other
 * copy is refused.
 */
import type { Auditor } from "../audit/audit.ts";
import type { ActorType } from "../audit/vocabulary.ts";
import type { Db } from "../db/client.ts";
import { findDeadLetter, markReplaying } from "../db/repos/dead-letters.ts";
import type { DeadLetterRow } from "../db/schema/index.ts";
import { AppError } from "../lib/errors.ts";

export interface ReplayDeps {
  db: Db;
  auditor: Auditor;
}

export interface Replayer {
  actorType: Extract<ActorType, "operator">;
  actorId: string;
  sourceAddress?: string;
}

export async function replayDeadLetter(deps: ReplayDeps, id: number, by: Replayer): Promise<DeadLetterRow> {
  const audit = {
    eventType: "operator" as const,
    actorType: by.actorType,
    actorId: by.actorId,
    resource: `dead-letter/${id}`,
    action: "replay_dead_letter",
    sourceAddress: by.sourceAddress,
  };
  const row = await markReplaying(deps.db, id, by.actorId);
  if (!row) {
    const existing = await findDeadLetter(deps.db, id);
    await deps.auditor.record({ ...audit, outcome: "failure", reason: existing ? `it was ${existing.status}` : "no such dead letter" });
    if (!existing) throw new AppError("not_found", `there is no dead letter ${id}`);
    throw new AppError("conflict", `dead letter ${id} was replayed already`);
  }
  await deps.auditor.record({
    ...audit,
    outcome: "success",
    reason: `to be sent back to ${row.topic}`,
    details: { topic: row.topic, partition: row.partition, offset: String(row.offset) },
  });
  return row;
}
