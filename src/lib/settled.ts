import { sqlStateOf } from "../db/failures.ts";

/**
 * Waits for every promise, then throws the first failure; their values otherwise. Used where
 * several statements share one database transaction: none may still be running when it ends.
 * Once one statement fails, PostgreSQL refuses the others as "in a failed transaction" (25P02):
 * the failure that says why (the first of another kind) is the one thrown.
 */
export async function settled<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  const failed = failures.find((r) => sqlStateOf(r.reason) !== "25P02") ?? failures[0];
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
