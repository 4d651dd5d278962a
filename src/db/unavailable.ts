import { type SQL, sql } from "drizzle-orm";

/**
 * Telling "the database cannot be reached now" (it restarts, the network is down, it refuses
 * connections) from everything else: the first is the service being unavailable for a while,
 * answered 503 at the HTTP edge and retried by Central's consumer; anything else is a bug.
 */

/** postgres.js connection error codes. */
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

/**
 * Whether an error (or one it wraps: drizzle wraps the driver's) says the database cannot be
 * reached: a connection failure, or PostgreSQL's "cannot serve now" SQLSTATE classes (08
 * connection exception, 57P operator intervention such as a shutdown, 53300 too many
 * connections).
 */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (CONNECTION_CODES.has(code)) return true;
    // A socket folder without the server's socket in it: the server is stopped (its socket goes with it).
    if (code === "ENOENT" && (e as { syscall?: unknown }).syscall === "connect") return true;
    if (code.startsWith("08") || code.startsWith("57P") || code === "53300") return true;
  }
  return false;
}

/**
 * Whether PostgreSQL undid a transaction because of another one: a deadlock victim (40P01) or
 * a serialization failure (40001). Nothing of it stayed, and running it again is the remedy.
 */
export function isTransactionConflict(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "40P01" || code === "40001") return true;
  }
  return false;
}

/**
 * Runs a transaction again when PostgreSQL undid it because of another one (isTransactionConflict),
 * a few times at most: nothing of the undone attempt stayed, so running it again is the remedy.
 */
export async function againOnConflict<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= attempts || !isTransactionConflict(err)) throw err;
    }
  }
}

const waiting = new WeakMap<object, Promise<void>>();
/** Longest one probe of `untilReachable` is waited for. */
const ATTEMPT_MS = 1000;

/**
 * Resolves once the database answers again (or after `maxMs`): a caller that met an outage
 * retries right after it ends instead of on a growing back-off. Callers waiting on one handle
 * share one probe.
 */
export function untilReachable(db: { execute(query: SQL): Promise<unknown> }, maxMs = 30_000, everyMs = 250): Promise<void> {
  let probe = waiting.get(db);
  if (!probe) {
    probe = (async () => {
      const deadline = Date.now() + maxMs;
      while (Date.now() < deadline) {
        // One attempt may hang (a connection opened while the server was still starting waits
        // for its connect timeout): the next one goes ahead on another connection.
        const answered = await Promise.race([
          db.execute(sql`select 1`).then(
            () => true,
            () => false,
          ),
          Bun.sleep(ATTEMPT_MS).then(() => false),
        ]);
        if (answered) return;
        await Bun.sleep(everyMs);
      }
    })().finally(() => waiting.delete(db));
    waiting.set(db, probe);
  }
  return probe;
}

/**
 * Runs `operation` (a role's first use of the database at start), and while the database cannot
 * be reached tries again every second, saying so, instead of exiting: a role started while
 * PostgreSQL restarts comes up within a moment of its return. Anything else is thrown at once,
 * and so is the last failure once `maxMs` has passed.
 */
export async function onceReachable<T>(operation: () => Promise<T>, onWait: (err: unknown) => void, maxMs = Number.POSITIVE_INFINITY): Promise<T> {
  const giveUpAt = Date.now() + maxMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!isStoreUnavailable(err) || Date.now() + 1000 > giveUpAt) throw err;
      if (attempt % 30 === 0) onWait(err);
      await Bun.sleep(1000);
    }
  }
}
