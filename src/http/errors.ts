/**
 * One error mapping for every HTTP role: AppError codes become statuses with a JSON body
 * `{ error: { code, message, details? } }`; unknown routes are 404 in the same shape; the
 * database being unreachable, wherever a route met it, is a 503 the client may retry shortly;
 * a value the database refuses is a 422; anything else unexpected is a 500 that is logged and
 * never leaks internals.
 */
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { sqlStateOf } from "../db/failures.ts";
import { isStoreUnavailable } from "../db/unavailable.ts";
import { AppError, statusOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { errorBody } from "./error-body.ts";

/**
 * PostgreSQL's data exceptions that a value sent by a client causes: too long (22001), out of
 * range (22003), not a valid date or number (22007, 22008, 22P02), a character it cannot
 * store (22021, 22P05).
 */
const REFUSED_VALUES = new Set(["22001", "22003", "22007", "22008", "22P02", "22021", "22P05"]);

/** What a 503 for an unreachable database tells clients to wait before trying again (seconds). */
const RETRY_AFTER_S = 2;

export function installErrorHandling(app: Hono, log: Logger): void {
  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c: Context) => {
    if (err instanceof AppError) return c.json(errorBody(err.code, err.message, err.details), statusOf[err.code]);
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : status === 413 ? "payload_too_large" : "bad_request";
      return c.json(errorBody(code, err.message || "request rejected"), status);
    }
    if (isStoreUnavailable(err)) {
      log.warn("the database is unavailable: answered 503", { method: c.req.method, path: c.req.path, err: err instanceof Error ? err.message : String(err) });
      c.header("Retry-After", String(RETRY_AFTER_S));
      return c.json(errorBody("unavailable", "the database is unavailable; try again shortly"), 503);
    }
    // The database refused a value of the request that no schema caught (a NUL, a number out of
    // range): the request's fault, and it changed nothing.
    const state = sqlStateOf(err);
    if (state && REFUSED_VALUES.has(state))
      return c.json(errorBody("validation_failed", "a value of the request cannot be stored or compared", { sqlstate: state }), 422);
    log.error("unhandled error in request", { method: c.req.method, path: c.req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return c.json(errorBody("internal", "internal error"), 500);
  });
}
