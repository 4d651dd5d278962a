/**
 * What an identifier and a free text may hold, declared once for every edge (HTTP, bus, files,
 * flags). An id (a CP, a driver, a city key) is 1-64 letters, digits, '_', '.' or '-'. A free
 * text (a reason, a city, a filter) is well-formed Unicode without control characters: a NUL
 * can never reach PostgreSQL, and nothing invisible reaches a log or a terminal.
 */
import * as v from "valibot";

export const ID_MAX = 64;
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const ID_RULE = `1-${ID_MAX} letters, digits, '_', '.' or '-'`;

/** C0 and C1 control characters and DEL (tab, newline and the rest included). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

export function isId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** Whether a text is safe to store, log and show: well-formed, no control character. */
export function isCleanText(value: string): boolean {
  return !CONTROL.test(value) && value.isWellFormed();
}

/** The text with every control character (C0, DEL, C1) written as `\u0000`: nothing invisible reaches a log line or a terminal. */
export function escapeControls(value: string): string {
  return value.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * An untrusted text as it may be named in an audit entry or a log line about its refusal: at
 * most `max` characters, control characters written as `\u0000`, broken surrogates replaced.
 */
export function printable(value: string, max = ID_MAX): string {
  return escapeControls(value.slice(0, max).toWellFormed());
}

/** A CP's or driver's id; `name` prefixes the messages where a field name helps (HTTP). */
export const idSchema = (name?: string) =>
  v.pipe(v.string(name ? `${name} must be a string` : "expected a string"), v.regex(ID_PATTERN, name ? `${name} must be ${ID_RULE}` : `expected ${ID_RULE}`));

export interface TextRules {
  /** Surrounding spaces are dropped before the other checks (query strings, cities). */
  trim?: boolean;
  /** At least one character (after trimming). */
  required?: boolean;
}

/** A free text of at most `max` characters (reasons, details, cities, filters). */
export const textSchema = (max = 500, name?: string, rules: TextRules = {}) => {
  const string = v.string(name ? `${name} must be a string` : "expected a string");
  const rest = [
    v.minLength<string, number, string>(rules.required ? 1 : 0, name ? `${name} must not be empty` : "expected a text"),
    v.maxLength<string, number, string>(max, name ? `${name} must be at most ${max} characters` : `expected at most ${max} characters`),
    v.check<string, string>(isCleanText, name ? `${name} must not contain control characters` : "expected no control characters"),
  ] as const;
  return rules.trim ? v.pipe(string, v.trim(), ...rest) : v.pipe(string, ...rest);
};
