/**
 * A valibot result as a value: the output, or a reason that names the first field that does not
 * match ("charging_points.0.status: Invalid type: ..."). Bus messages, HTTP replies and local
 * files are read with it, so a refusal always says where the input went wrong.
 */
import * as v from "valibot";

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

type IssuePath = ReadonlyArray<PropertyKey | { key: unknown }> | undefined;

/** Where an issue is, as a dotted path; undefined when it is about the whole value. */
export function issuePath(issue: { path?: IssuePath }): string | undefined {
  return issue.path?.map((p) => String(typeof p === "object" && p !== null ? p.key : p)).join(".") || undefined;
}

/** Validates a value already decoded; the reason names the first bad field. */
export function validate<S extends v.GenericSchema>(schema: S, input: unknown, whole = "(message)"): Parsed<v.InferOutput<S>> {
  const result = v.safeParse(schema, input);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  return { ok: false, reason: `${issuePath(issue) ?? whole}: ${issue.message}` };
}
