/**
 * `evnet central dead-letters [list [status] | show <id> | replay <id>]` and the admin menu's
 * dead letters: what Central set aside, one letter in full, and its replay once fixed.
 */
import { DEAD_LETTER_STATUSES, type DeadLetterStatus, findDeadLetter, listDeadLetters } from "../../db/repos/dead-letters.ts";
import { replayDeadLetter } from "../../dead-letters/replay.ts";
import { type DeadLetterDetail, type DeadLetterView, deadLetterDetail, deadLetterView, formatDeadLetter, formatDeadLetters } from "../../dead-letters/view.ts";
import { AppError } from "../../lib/errors.ts";
import { type AdminDeps, operatorName } from "./admin.ts";

const LIST_LIMIT = 50;

export async function listLetters(deps: Pick<AdminDeps, "db">, status?: string): Promise<DeadLetterView[]> {
  if (status !== undefined && !(DEAD_LETTER_STATUSES as readonly string[]).includes(status))
    throw new AppError("bad_request", `dead letters are ${DEAD_LETTER_STATUSES.join(", ")}, not '${status}'`);
  return (await listDeadLetters(deps.db, { status: status as DeadLetterStatus | undefined, limit: LIST_LIMIT })).map(deadLetterView);
}

export async function showLetter(deps: Pick<AdminDeps, "db">, id: number): Promise<DeadLetterDetail> {
  const row = await findDeadLetter(deps.db, id);
  if (!row) throw new AppError("not_found", `there is no dead letter ${id}`);
  return deadLetterDetail(row);
}

export async function replayLetter(deps: AdminDeps, id: number): Promise<string> {
  const row = await replayDeadLetter(deps, id, { actorType: "operator", actorId: operatorName(), sourceAddress: "central admin" });
  return row.topic;
}

export function letterId(text: string | undefined): number {
  if (!text || !/^\d{1,15}$/.test(text)) throw new AppError("bad_request", "expected a dead letter's number");
  return Number(text);
}

/** `print` shows what it is given as JSON (--json) or as text. */
export async function deadLetters(deps: AdminDeps, args: string[], print: (asJson: () => unknown, asText: () => string) => Promise<void>): Promise<void> {
  const [sub = "list", arg] = args;
  switch (sub) {
    case "list": {
      const rows = await listLetters(deps, arg);
      return print(
        () => rows,
        () => formatDeadLetters(rows),
      );
    }
    case "show": {
      const letter = await showLetter(deps, letterId(arg));
      return print(
        () => letter,
        () => formatDeadLetter(letter),
      );
    }
    case "replay": {
      const id = letterId(arg);
      const topic = await replayLetter(deps, id);
      return print(
        () => ({ replaying: id, topic }),
        () => `Central sends dead letter ${id} back to ${topic} and applies it once`,
      );
    }
    default:
      throw new AppError("bad_request", `dead-letters takes list [status], show <id> or replay <id>, not '${sub}'`);
  }
}
