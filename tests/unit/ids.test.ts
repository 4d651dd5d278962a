import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { idSchema, isCleanText, isId, printable, textSchema } from "../../src/domain/ids.ts";

const issue = (schema: v.GenericSchema, input: unknown) => {
  const result = v.safeParse(schema, input);
  return result.success ? undefined : result.issues[0].message;
};

describe("an id", () => {
  test("is 1-64 letters, digits, '_', '.' or '-'", () => {
    for (const id of ["CP_001", "D1", "a.b-c", "x".repeat(64)]) expect(isId(id)).toBe(true);
    for (const id of ["", "x".repeat(65), "CP 1", "CP\u00001", "CP/1", "Málaga", 42]) expect(isId(id)).toBe(false);
  });

  test("names the field it is refused for", () => {
    expect(issue(idSchema("cp_id"), "CP 1")).toBe("cp_id must be 1-64 letters, digits, '_', '.' or '-'");
    expect(issue(idSchema(), 7)).toBe("expected a string");
  });
});

describe("a free text", () => {
  test("holds any printable Unicode, and no control character", () => {
    expect(isCleanText("San Sebastián, 20 °C — ok ✓")).toBe(true);
    for (const text of ["a\u0000b", "tab\there", "line\n", "esc\u001b[31m", "del\u007f", "c1\u0085"]) expect(isCleanText(text)).toBe(false);
    expect(isCleanText("broken \ud800 surrogate")).toBe(false);
  });

  test("is refused with a message naming its field", () => {
    expect(issue(textSchema(10, "reason"), "a\u0000")).toBe("reason must not contain control characters");
    expect(issue(textSchema(3, "reason"), "abcd")).toBe("reason must be at most 3 characters");
    expect(issue(textSchema(10, "city", { required: true, trim: true }), "   ")).toBe("city must not be empty");
  });

  test("may be trimmed first, so spaces around it do not count", () => {
    expect(v.parse(textSchema(6, "city", { trim: true }), "  Madrid \n")).toBe("Madrid");
  });
});

describe("a refused text named in an audit entry", () => {
  test("shows its control characters instead of carrying them, within a bound", () => {
    expect(printable("CP\u00001")).toBe("CP\\u00001");
    expect(printable("\u001b[31mred")).toBe("\\u001b[31mred");
    expect(printable("x".repeat(100))).toHaveLength(64);
    expect(isCleanText(printable("a\ud800b"))).toBe(true);
  });
});
