/**
 * Changing a CP's state: lock its row, change the facts and save the state derived from them
 * (cp-state.ts), and end a session in progress that the new facts do not allow (sessions.ts's
 * `settleCp`). Every CP state change in Central goes through `changeCp`, or through `settleCp`
 * when a session itself starts or ends, under the CP's row lock, so two Central instances (or a
 * consumer and the sweeper) never interleave on one CP. Lock order everywhere: CP, then
 * session, then driver.
 */
import { eq, sql } from "drizzle-orm";
import { type CpRow, chargingPoints } from "../../db/schema/index.ts";
import { statement } from "../../db/statements.ts";
import type { Cause, Changed, FactChange } from "./cp-state.ts";
import { sessionInProgressAt, settleCp } from "./sessions.ts";
import type { Work } from "./work.ts";

const cpLocked = statement("central_lock_cp", (db) =>
  db
    .select()
    .from(chargingPoints)
    .where(eq(chargingPoints.cpId, sql.placeholder("cpId")))
    .for("update"),
);

/** Locks and reads a registered CP (undefined: unknown or deregistered). */
export async function lockCp(work: Work, cpId: string): Promise<CpRow | undefined> {
  const [row] = await cpLocked(work.tx, { cpId });
  return row && row.deregisteredAt === null ? row : undefined;
}

/**
 * Applies `change` to a locked CP and re-derives its state. Ends the CP's session in progress
 * when the new facts forbid supplying (fault, stop, revocation, lost connection).
 */
export async function changeCp(work: Work, cp: CpRow, change: FactChange, cause: Cause): Promise<Changed> {
  return settleCp(work, cp, change, cause, await sessionInProgressAt(work, cp.cpId));
}
