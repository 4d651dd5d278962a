import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";

/** postgres.js connection error codes, and PostgreSQL's "cannot serve now" SQLSTATE classes. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** Whether an error (or one it wraps: drizzle wraps the driver's) says the database cannot be reached. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (CONNECTION_CODES.has(code)) return true;
    if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return true;
  }
  return false;
}

/**
 * Runs a database operation and turns "the database is down" into a 503 the caller can retry
 * (it is the service being unavailable, not a bug); anything else stays a 500.
 */
export async function whileStoreIsUp<T>(ctx: Pick<ApiContext, "log">, what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (!isStoreUnavailable(err)) throw err;
    ctx.log.error(`could not ${what}: database unavailable`, { err });
    throw new AppError("unavailable", `could not ${what}: the database is unavailable`);
  }
}
