/**
 * The body of every error an evnet HTTP service answers, `{ error: { code, message, details? } }`:
 * the services build it here and their clients read it with the same schema.
 */
import * as v from "valibot";

export const errorBodySchema = v.object({
  error: v.object({
    /** Stable and machine-readable (src/lib/errors.ts); a client of another version may meet a new one. */
    code: v.string(),
    message: v.string(),
    /** The fields that failed validation, or the reason of a refusal (`{ reason }`). */
    details: v.optional(v.unknown()),
  }),
});
export type ErrorBody = v.InferOutput<typeof errorBodySchema>;

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}
