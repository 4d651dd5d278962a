import { isStoreUnavailable } from "../../../db/unavailable.ts";
import { AppError } from "../../../lib/errors.ts";
import type { ApiContext } from "../context.ts";

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
