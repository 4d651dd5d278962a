/** Errors in log lines say why: the wrapped cause (PostgreSQL's reason behind a failed query) is kept. */
import { afterAll, describe, expect, test } from "bun:test";
import { createLogger, errorText, setLogFormat, setLogSink, sink } from "../../src/lib/log.ts";

const previous = sink;
afterAll(() => {
  setLogSink(previous);
  setLogFormat("text");
});

describe("an error in a log line", () => {
  test("says the cause a wrapping error carries, once", () => {
    const why = new Error("deadlock detected");
    const failed = new Error("Failed query: update charging_sessions set …", { cause: why });
    expect(errorText(failed)).toBe("Failed query: update charging_sessions set …; cause: deadlock detected");
    expect(errorText(new Error("connect ECONNREFUSED", { cause: new Error("connect ECONNREFUSED") }))).toBe("connect ECONNREFUSED");
    expect(errorText(new Error("plain"))).toBe("plain");
  });

  test("is written with its cause in text and in JSON lines", () => {
    const lines: string[] = [];
    setLogSink((line) => lines.push(line));
    const err = new Error("Failed query: select 1", { cause: new Error("canceling statement due to lock timeout") });
    createLogger("test").warn("could not deliver messages now", { err });
    expect(lines.at(-1)).toContain('err="Failed query: select 1; cause: canceling statement due to lock timeout"');
    setLogFormat("json");
    createLogger("test").warn("could not deliver messages now", { err });
    setLogFormat("text");
    expect(JSON.parse(lines.at(-1)!).err).toBe("Failed query: select 1; cause: canceling statement due to lock timeout");
  });
});
