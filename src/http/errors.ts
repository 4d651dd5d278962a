/**
 * One error mapping for every HTTP role: AppError codes become statuses with a JSON body
 * `{ error: { code, message, details? } }`; unknown routes are 404 in the same shape; anything
 * unexpected is a 500 that is logged and never leaks internals.
 */
import type { Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, statusOf } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

export function installErrorHandling(app: Hono<any>, log: Logger): void {
  app.notFound((c) => c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c: Context) => {
    if (err instanceof AppError) return c.json(errorBody(err.code, err.message, err.details), statusOf[err.code]);
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : status === 413 ? "payload_too_large" : "bad_request";
      return c.json(errorBody(code, err.message || "request rejected"), status);
    }
    log.error("unhandled error in request", { method: c.req.method, path: c.req.path, err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return c.json(errorBody("internal", "internal error"), 500);
  });
}
