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
import { isCleanText } from "../domain/ids.ts";
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
  const guarded: MiddlewareHandler = async (c, next) => {
    // Hono's json validator quietly validates `{}` when the content type is not JSON; refuse instead.
    if (target === "json") await refuseNonJson(c);
    refuseUncleanNames(target, await rawInput(c, target));
    return inner(c, next);
  };
  return Object.assign(guarded, { [uniqueSymbol]: (inner as unknown as Record<symbol, unknown>)[uniqueSymbol] }) as unknown as typeof inner;
}

/** What the client sent for `target`, before any schema (undefined: nothing this guard reads, or JSON the validator will refuse). */
async function rawInput(c: Context, target: keyof ValidationTargets): Promise<unknown> {
  if (target === "query") return c.req.queries();
  if (target === "param") return c.req.param();
  if (target !== "json") return undefined;
  try {
    return await c.req.json();
  } catch {
    return undefined;
  }
}

/**
 * The field names of the request, at every depth, by the rule of src/domain/ids.ts: a control
 * character (a NUL, an escape that would reach a log or a terminal) or a broken surrogate in a
 * name is refused. The values are the route's schema's to check (idSchema, textSchema), by the
 * same rule; the names are not declared anywhere a schema could see them.
 */
function refuseUncleanNames(target: keyof ValidationTargets, input: unknown): void {
  const issues: { field: string; message: string }[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (issues.length >= 20 || path.length > 32) return;
    if (!value || typeof value !== "object") return;
    for (const [name, item] of Object.entries(value)) {
      if (isCleanText(name)) visit(item, [...path, name]);
      else issues.push({ field: [...path, JSON.stringify(name)].join("."), message: "a name must not contain control characters" });
    }
  };
  visit(input, []);
  if (issues.length > 0) throw new AppError("validation_failed", `invalid ${targetName[target]}`, issues);
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
  429: "Too many failed authentications from this address: wait the `Retry-After` seconds",
  503: "A service it depends on is unavailable",
};

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503;

/**
 * The error responses a route can give, all with the `{ error: { code, message, details? } }`
 * body. A route that checks credentials (401) can also refuse a token sent over plain HTTP from
 * afar (403) and hold back an address that keeps failing (429): those come with it.
 */
export function errors(...statuses: ErrorStatus[]) {
  const all = new Set<ErrorStatus>(statuses.includes(401) ? [...statuses, 403, 429] : statuses);
  return Object.fromEntries([...all].sort().map((s) => [s, ok(errorDescriptions[s] ?? "Error", documentedErrorBody)]));
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
