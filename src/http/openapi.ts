/**
 * Describing routes for the OpenAPI document. A route states its inputs and outputs once, as
 * valibot schemas, and the same statement both validates the request and documents it:
 *
 *   app.get("/things/:id",
 *     describeRoute({ tags: ["things"], summary: "One thing", responses: { 200: ok("The thing", thingSchema), ...errors(404, 422) } }),
 *     validate("param", v.object({ id: idSchema })),
 *     async (c) => { const { id } = c.req.valid("param"); ... });
 *
 * `validate` is hono-openapi's validator with this project's error shape: a bad value is a 422
 * `validation_failed` naming each field, malformed JSON or a missing JSON content type a 400
 * `bad_request` — the same bodies `src/http/errors.ts` gives everything else.
 */
import type { Context, MiddlewareHandler, ValidationTargets } from "hono";
import { describeRoute, resolver, uniqueSymbol, validator } from "hono-openapi";
import * as v from "valibot";
import { AppError, type ErrorCode, statusOf } from "../lib/errors.ts";
import { issuePath } from "../lib/parsed.ts";
import { errorBodySchema } from "./error-body.ts";

export { describeRoute, resolver };

const MAX_JSON_BODY_BYTES = 64 * 1024;

/** The body of every error response, with the codes this version gives; one shared `Error` schema in the document. */
const documentedErrorBody = v.pipe(
  v.object({ error: v.object({ ...errorBodySchema.entries.error.entries, code: v.picklist(Object.keys(statusOf) as ErrorCode[]) }) }),
  v.metadata({ ref: "Error" }),
);

type Issue = { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> };

function describeIssues(issues: readonly Issue[]) {
  return issues.map((i) => ({ field: issuePath(i) ?? "(value)", message: i.message }));
}

const targetName: Record<keyof ValidationTargets, string> = {
  json: "body",
  form: "form",
  query: "query",
  param: "path",
  header: "headers",
  cookie: "cookies",
};

/** Refuses what is not a JSON body of a sane size, before the validator parses it. */
async function refuseNonJson(c: Context): Promise<void> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!/^application\/([\w.-]+\+)?json$/.test(type)) throw new AppError("bad_request", "expected a JSON body (Content-Type: application/json)");
  const tooLarge = new AppError("bad_request", `body larger than ${MAX_JSON_BODY_BYTES} bytes`);
  if (Number(c.req.header("content-length") ?? 0) > MAX_JSON_BODY_BYTES) throw tooLarge;
  // Hono caches the text, and the validator's own parse reads it from there.
  const text = await c.req.text();
  if (Buffer.byteLength(text) > MAX_JSON_BODY_BYTES) throw tooLarge;
}

/**
 * Validates one part of the request with a valibot schema and documents it. Read the result
 * with `c.req.valid(target)`.
 */
export function validate<S extends v.GenericSchema, T extends keyof ValidationTargets>(target: T, schema: S) {
  const inner = validator(target, schema, (result) => {
    if (!result.success) throw new AppError("validation_failed", `invalid ${targetName[target]}`, describeIssues(result.error as readonly Issue[]));
  });
  if (target !== "json") return inner;
  // Hono's json validator quietly validates `{}` when the content type is not JSON; refuse instead.
  const guarded: MiddlewareHandler = async (c, next) => {
    await refuseNonJson(c);
    return inner(c, next);
  };
  return Object.assign(guarded, { [uniqueSymbol]: (inner as unknown as Record<symbol, unknown>)[uniqueSymbol] }) as unknown as typeof inner;
}

/** A JSON response documented by its schema. */
export function ok(description: string, schema: v.GenericSchema) {
  return { description, content: { "application/json": { schema: resolver(schema) } } };
}

const errorDescriptions: Record<number, string> = {
  400: "Malformed request (bad JSON, wrong content type)",
  401: "Missing or wrong bearer token",
  403: "Not allowed",
  404: "No such resource",
  409: "Conflicts with the current state",
  422: "Input failed validation; `details` names each field",
  503: "A service it depends on is unavailable",
};

/** The error responses a route can give, all with the `{ error: { code, message, details? } }` body. */
export function errors(...statuses: (400 | 401 | 403 | 404 | 409 | 422 | 503)[]) {
  return Object.fromEntries(statuses.map((s) => [s, ok(errorDescriptions[s] ?? "Error", documentedErrorBody)]));
}

/** For routes that need a token: `describeRoute({ ..., security: bearer })`. */
export const bearer = [{ bearerAuth: [] as string[] }];

/** Components every document carries (referenced by `bearer`). */
export const securitySchemes = {
  bearerAuth: {
    type: "http" as const,
    scheme: "bearer",
    description: "Operator or service token (EVNET_OPERATOR_TOKEN / EVNET_SERVICE_TOKEN), as `Authorization: Bearer <token>`",
  },
};
