/** Query-string pieces the read endpoints share. Query values always arrive as strings. */
import * as v from "valibot";

/** A whole number in [min, max] given as a string, with a default. */
export function wholeNumber(name: string, fallback: number, min: number, max: number) {
  const what = `${name} must be a whole number from ${min} to ${max}`;
  return v.optional(
    v.pipe(
      v.string(what),
      v.description(`a whole number from ${min} to ${max}; ${fallback} when left out`),
      v.regex(/^\d{1,9}$/, what),
      v.transform(Number),
      v.minValue(min, what),
      v.maxValue(max, what),
    ),
    String(fallback),
  );
}

export const pagingQuery = {
  limit: wholeNumber("limit", 50, 1, 500),
  offset: wholeNumber("offset", 0, 0, 1_000_000),
};

/** Session ids are Central's: letters, digits and a few separators. */
export const sessionIdSchema = v.pipe(
  v.string("session_id must be a string"),
  v.regex(/^[A-Za-z0-9_.:-]{1,128}$/, "session_id must be 1-128 letters, digits, '_', '.', ':' or '-'"),
);
