/** Which database failures are the data's (set the message aside) and which are the database's (retry). */
import { describe, expect, test } from "bun:test";
import { failureKind, sqlStateOf } from "../../src/db/failures.ts";
import { isStoreUnavailable } from "../../src/db/unavailable.ts";

/** A database error as drizzle throws it: the driver's error as its cause. */
const wrapped = (code: string) => Object.assign(new Error("Failed query: ..."), { cause: Object.assign(new Error("driver"), { code }) });

describe("a database failure", () => {
  test("is the message's data when PostgreSQL refuses a value (22xxx) or a constraint (23xxx)", () => {
    for (const code of ["22021", "22P05", "22003", "23505", "23514", "23503"]) expect(failureKind(wrapped(code))).toBe("permanent");
  });

  test("is temporary when the database is away, busy, shutting down, or refuses for a reason not in the data", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "CONNECTION_CLOSED", "08006", "57P01", "53300", "40001", "40P01", "55P03", "42P01", "XX000"])
      expect(failureKind(wrapped(code))).toBe("temporary");
    expect(isStoreUnavailable(wrapped("57P01"))).toBe(true);
    expect(isStoreUnavailable(wrapped("40001"))).toBe(false);
  });

  test("is unknown without an answer from the database", () => {
    expect(failureKind(new TypeError("undefined is not a function"))).toBe("unknown");
    expect(sqlStateOf(new Error("no code"))).toBeUndefined();
    expect(sqlStateOf(wrapped("23514"))).toBe("23514");
  });
});

describe("statements of one transaction that fail together", () => {
  test("report the failure that says why, not the 'in a failed transaction' refusals it caused", async () => {
    const { settled } = await import("../../src/lib/settled.ts");
    const aborted = Promise.reject(wrapped("25P02"));
    const cause = Promise.reject(wrapped("22021"));
    const err = await settled([aborted, cause, Promise.resolve(1)]).catch((e) => e);
    expect(sqlStateOf(err)).toBe("22021");
  });
});
