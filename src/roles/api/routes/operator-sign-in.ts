/**
 * `POST /ev/central/operator/sign-in`: the dashboard checks an operator token the moment it is
 * entered, so a wrong one is refused there and then (401, audited as a failed sign-in) rather
 * than when an action fails. A right one is audited too: who signed in, from where.
 */
import { Hono } from "hono";
import * as v from "valibot";
import { requireToken } from "../../../http/auth.ts";
import { clientAddress } from "../../../http/client-address.ts";
import { bearer, describeRoute, errors, ok } from "../../../http/openapi.ts";
import type { ApiContext } from "../context.ts";

export function operatorSignInRoutes(ctx: ApiContext): Hono {
  const app = new Hono();
  const operator = requireToken([{ role: "operator", token: ctx.config.EVNET_OPERATOR_TOKEN }], ctx.auditor);
  app.post(
    "/operator/sign-in",
    describeRoute({
      tags: ["admin"],
      summary: "Check an operator token",
      description:
        "200 when the bearer token is the operator token, 401 otherwise (audited either way). Nothing is stored: the token itself is what later requests carry.",
      security: bearer,
      responses: { 200: ok("The token is the operator's", v.object({ role: v.literal("operator"), message: v.string() })), ...errors(401) },
    }),
    operator,
    async (c) => {
      await ctx.auditor.record({
        eventType: "authentication",
        actorType: "operator",
        actorId: "dashboard",
        resource: "operator",
        action: "sign_in",
        outcome: "success",
        sourceAddress: clientAddress(c),
      });
      return c.json({ role: "operator" as const, message: "signed in as operator" });
    },
  );
  return app;
}
