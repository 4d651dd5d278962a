/**
 * Bearer-token guards for writes: operator, service (weather) and enrollment tokens, compared
 * in constant time. A missing or wrong token is a 401, audited as a security event by callers
 * that pass an auditor. Tokens travel only over TLS, or from a loopback client when a service
 * serves plain HTTP: anything else is refused before a token is even looked at.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Auditor } from "../audit/audit.ts";
import { constantTimeEqual } from "../crypto/keys.ts";
import { AppError } from "../lib/errors.ts";
import { clientAddress, isLoopback } from "./client-address.ts";
import { errorBody } from "./error-body.ts";

export type TokenRole = "operator" | "service" | "enrollment";

export interface TokenSpec {
  role: TokenRole;
  token: string;
}

export function bearer(c: Context): string | undefined {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1];
}

/** Accepts any of the given tokens; sets `c.var.tokenRole` to the role that matched. */
export function requireToken(accepted: TokenSpec[], auditor?: Auditor): MiddlewareHandler<{ Variables: { tokenRole: TokenRole } }> {
  return async (c, next) => {
    const given = bearer(c);
    const match = given ? accepted.find((a) => constantTimeEqual(given, a.token)) : undefined;
    if (!match) {
      await auditor?.record({
        eventType: "security",
        actorType: "system",
        action: `${c.req.method} ${c.req.path}`,
        resource: c.req.path,
        outcome: "failure",
        reason: given ? "wrong token" : "missing token",
        sourceAddress: clientAddress(c),
      });
      throw new AppError("unauthorized", given ? "invalid token" : `missing bearer token (${accepted.map((a) => a.role).join(" or ")} token required)`);
    }
    c.set("tokenRole", match.role);
    await next();
  };
}

/**
 * Middleware for a whole app: a request that carries a token over plain HTTP from anything but
 * a loopback client is refused (403), audited: the token crossed a network in clear, and is not
 * compared (an operator should change it). Over TLS, or from loopback, it goes on.
 */
export function tokensOnlyOverTls(servesTls: boolean, auditor?: Auditor): MiddlewareHandler {
  return async (c, next) => {
    if (servesTls || c.req.header("authorization") === undefined || isLoopback(clientAddress(c))) return next();
    await auditor?.record({
      eventType: "security",
      actorType: "system",
      action: `${c.req.method} ${c.req.path}`,
      resource: c.req.path,
      outcome: "failure",
      reason: "a token sent over plain HTTP from a non-loopback client",
      sourceAddress: clientAddress(c),
    });
    return c.json(
      errorBody(
        "forbidden",
        "tokens are only accepted over HTTPS (or from this machine): this service serves plain HTTP; configure its TLS certificate and key",
      ),
      403,
    );
  };
}
