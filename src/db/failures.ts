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

export type FailureKind = "temporary" | "permanent" | "unknown";

/** postgres.js and Node's codes for a connection that could not be made or was lost. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** The error codes in an error and the errors it wraps (drizzle wraps the driver's). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/** Whether the database cannot be reached now (connection lost, shutting down, too many connections). */
export function isConnectionFailure(err: unknown): boolean {
  return codesOf(err).some((code) => CONNECTION_CODES.has(code) || code.startsWith("08") || code.startsWith("57P") || code === "53300");
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function failureKind(err: unknown): FailureKind {
  if (isConnectionFailure(err)) return "temporary";
  const state = sqlStateOf(err);
  if (state === undefined) return "unknown";
  return state.startsWith("22") || state.startsWith("23") ? "permanent" : "temporary";
}

/** The SQLSTATE of a database error, if it has one (for audit entries and dead letters). */
export function sqlStateOf(err: unknown): string | undefined {
  return codesOf(err).find((code) => SQLSTATE.test(code));
}
