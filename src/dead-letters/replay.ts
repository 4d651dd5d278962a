/**
 * An operator replays a dead letter (API or `evnet central dead-letters replay`): the letter is
 * marked as awaiting its replay and a copy goes back to its topic, marked with the letter's id.
 * The consumer applies that copy once, while the letter awaits it, without the freshness and
 * replay checks the copy would otherwise fail (its sequence was used up when it was set aside);
 * any other copy is refused.
 */
import type { ActorType, Auditor } from "../audit/audit.ts";
import type { Bus } from "../bus/bus.ts";
import type { Db } from "../db/client.ts";
import { type DeadLetterRow, findDeadLetter, markReplaying } from "../db/repos/dead-letters.ts";
import { AppError } from "../lib/errors.ts";
import { replayMessage } from "./messages.ts";

export interface ReplayDeps {
  db: Db;
  bus: Bus;
  auditor: Auditor;
}

export interface Replayer {
  actorType: Extract<ActorType, "operator">;
  actorId: string;
  sourceAddress?: string;
}

export async function replayDeadLetter(deps: ReplayDeps, id: number, by: Replayer): Promise<DeadLetterRow> {
  const audit = { eventType: "operator" as const, actorType: by.actorType, actorId: by.actorId, resource: `dead-letter/${id}`, action: "replay_dead_letter" };
  const row = await markReplaying(deps.db, id, by.actorId);
  if (!row) {
    const existing = await findDeadLetter(deps.db, id);
    await deps.auditor.record({
      ...audit,
      outcome: "failure",
      reason: existing ? `it was ${existing.status}` : "no such dead letter",
      sourceAddress: by.sourceAddress,
    });
    if (!existing) throw new AppError("not_found", `there is no dead letter ${id}`);
    throw new AppError("conflict", `dead letter ${id} was replayed already`);
  }
  try {
    await deps.bus.publish(row.topic, [replayMessage(row)]);
  } catch (err) {
    await deps.auditor.record({
      ...audit,
      outcome: "error",
      reason: `could not publish: ${err instanceof Error ? err.message : String(err)}`,
      sourceAddress: by.sourceAddress,
    });
    throw new AppError("unavailable", `dead letter ${id} could not be sent back to ${row.topic} (message bus unavailable); try again`);
  }
  await deps.auditor.record({
    ...audit,
    outcome: "success",
    reason: `sent back to ${row.topic}`,
    sourceAddress: by.sourceAddress,
    details: { topic: row.topic, partition: row.partition, offset: String(row.offset) },
  });
  return row;
}
