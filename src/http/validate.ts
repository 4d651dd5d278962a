/**
 * The fields HTTP requests share, with messages that name them: the id and free-text rules of
 * src/domain/ids.ts, trimmed as people type them. Routes validate with `validate()` from
 * src/http/openapi.ts, which turns a bad field into a 422 `validation_failed` naming it.
 */
import * as v from "valibot";
import { CITY_MAX } from "../db/city-key.ts";
import { idSchema, textSchema } from "../domain/ids.ts";

/** An id in a path, a query or a body, named `name`: spaces around it are dropped as people type them. */
export const idField = (name: string) => v.pipe(v.string(`${name} must be a string`), v.trim(), idSchema(name));

/** Identifiers of CPs and drivers in paths, queries and bodies. */
export const cpIdSchema = idField("cp_id");
export const driverIdSchema = idField("driver_id");

/** A city (a CP's location, a watched place): 1-100 characters once trimmed, no control character. */
export const citySchema = (name = "city") => textSchema(CITY_MAX, name, { trim: true, required: true });

/** An optional free-text query value (a filter, a reason): trimmed, at most `max` characters. */
export const queryText = (name: string, max = 200, rules: { required?: boolean } = {}) => v.optional(textSchema(max, name, { trim: true, ...rules }));
