/**
 * What a failed database call says about the work that made it. A *permanent* failure is the
 * work's own data (PostgreSQL's data exceptions, 22xxx, and integrity violations, 23xxx): it
 * fails the same way every time, so retrying it forever would stall whatever waits behind it.
 * Any other answer of the database is *temporary* for the work: the database (or the way to it)
 * is away or busy, or it is set up wrongly (a missing table after a botched upgrade, a revoked
 * privilege): the same work succeeds once that is put right, and discarding it meanwhile would
 * lose it. A failure without an answer from the database (a lost connection aside) is *unknown*:
 * the caller decides, typically by checking whether the database answers at all.
 */

import { isStoreUnavailable } from "./unavailable.ts";

export type FailureKind = "temporary" | "permanent" | "unknown";

/** The error codes in an error and the errors it wraps (drizzle wraps the driver's). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function failureKind(err: unknown): FailureKind {
  if (isStoreUnavailable(err)) return "temporary";
  const state = sqlStateOf(err);
  if (state === undefined) return "unknown";
  return state.startsWith("22") || state.startsWith("23") ? "permanent" : "temporary";
}

/** The SQLSTATE of a database error, if it has one (for audit entries and dead letters). */
export function sqlStateOf(err: unknown): string | undefined {
  return codesOf(err).find((code) => SQLSTATE.test(code));
}
