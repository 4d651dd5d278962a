/**
 * What a failed database call says about the work that made it. A *temporary* failure is the
 * database (or the way to it) being away or busy: the same work succeeds later, so it is
 * retried. A *permanent* one is the work's own data (PostgreSQL's data exceptions, 22xxx, and
 * integrity violations, 23xxx): it fails the same way every time, so retrying it forever would
 * stall whatever waits behind it. Anything else is *unknown*: the caller decides, typically by
 * checking whether the database answers at all.
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

/** Temporary SQLSTATEs besides lost connections: serialization failure, deadlock, lock not available, resources, system errors. */
function isTemporaryState(code: string): boolean {
  return code === "40001" || code === "40P01" || code === "55P03" || code.startsWith("53") || code.startsWith("58");
}

export function failureKind(err: unknown): FailureKind {
  if (isConnectionFailure(err)) return "temporary";
  const codes = codesOf(err);
  if (codes.some(isTemporaryState)) return "temporary";
  if (codes.some((code) => /^2[23][0-9A-Z]{3}$/.test(code))) return "permanent";
  return "unknown";
}

/** The SQLSTATE of a database error, if it has one (for audit entries and dead letters). */
export function sqlStateOf(err: unknown): string | undefined {
  return codesOf(err).find((code) => /^[0-9A-Z]{5}$/.test(code));
}
