/**
 * Bearer-token guards for writes: operator, service (weather) and enrollment tokens, compared
 * in constant time. A missing or wrong token is a 401, audited as a security event by callers
 * that pass an auditor.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Auditor } from "../audit/audit.ts";
import { constantTimeEqual } from "../crypto/keys.ts";
import { AppError } from "../lib/errors.ts";
import { clientAddress } from "./client-address.ts";

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
