/**
 * Query-string fields of the console's searches, declared once: free texts without control
 * characters (src/domain/ids.ts), ids, times and choices, each refused with a message naming
 * the field (422), never passed on to the database unchecked.
 */
import * as v from "valibot";
import { END_REASONS } from "../../../domain/billing.ts";
import { textSchema } from "../../../domain/ids.ts";
import { idField } from "../../../http/validate.ts";

/** A free text filter; an empty one (`q=`) counts as no filter. */
export const textFilter = (name: string, max = 100) =>
  v.optional(
    v.pipe(
      textSchema(max, name),
      v.trim(),
      v.transform((s) => s || undefined),
    ),
  );

/** An id filter (a charger, a driver). */
export const idFilter = (name: string) => v.optional(idField(name));

/** An ISO 8601 time, as a Date. */
export const timeFilter = (name: string) =>
  v.optional(
    v.pipe(
      v.string(`${name} must be a date and time`),
      v.check((s) => s.length <= 40 && !Number.isNaN(Date.parse(s)), `${name} must be a date and time (ISO 8601, e.g. 2025-01-31T10:00:00Z)`),
      v.transform((s) => new Date(s)),
    ),
  );

export const endReasonFilter = v.optional(v.picklist(END_REASONS, `end_reason must be one of ${END_REASONS.join(", ")}`));

/** `from` must not be after `to`, when both are given. */
export function timeRangeInOrder<T extends { from?: Date; to?: Date }>() {
  return v.check<T, string>((q) => !(q.from && q.to) || q.from <= q.to, "from must not be after to");
}
