/**
 * Input validation at the HTTP edge: bodies, params and queries go through valibot schemas;
 * malformed JSON is a 400 `bad_request`, a body of the wrong shape a 422 `validation_failed`
 * naming each field.
 */
import type { Context } from "hono";
import * as v from "valibot";
import { AppError } from "../lib/errors.ts";

const MAX_BODY_BYTES = 64 * 1024;

function describe(issues: v.BaseIssue<unknown>[]) {
  return issues.map((i) => ({ field: i.path?.map((p) => String(p.key)).join(".") || "(body)", message: i.message }));
}

export function parseWith<S extends v.GenericSchema>(schema: S, input: unknown, what = "request"): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw new AppError("validation_failed", `invalid ${what}`, describe(result.issues));
  return result.output;
}

export async function jsonBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!type.toLowerCase().includes("application/json")) throw new AppError("bad_request", "expected a JSON body (Content-Type: application/json)");
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError("bad_request", `body larger than ${MAX_BODY_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError("bad_request", "malformed JSON body");
  }
  return parseWith(schema, parsed, "body");
}

export function query<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  return parseWith(schema, c.req.query(), "query");
}

/** Identifiers of CPs, drivers and cities in paths and bodies. */
export const cpIdSchema = v.pipe(
  v.string("cp_id must be a string"),
  v.trim(),
  v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "cp_id must be 1-64 letters, digits, '_', '.' or '-'"),
);
export const driverIdSchema = v.pipe(
  v.string("driver_id must be a string"),
  v.trim(),
  v.regex(/^[A-Za-z0-9_.-]{1,64}$/, "driver_id must be 1-64 letters, digits, '_', '.' or '-'"),
);
export const citySchema = v.pipe(v.string("city must be a string"), v.trim(), v.minLength(1, "city must not be empty"), v.maxLength(100, "city is too long"));
