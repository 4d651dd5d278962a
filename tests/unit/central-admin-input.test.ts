import { describe, expect, test } from "bun:test";
import type { Auditor } from "../../src/audit/audit.ts";
import { MemoryBus } from "../../src/bus/memory.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import type { Db } from "../../src/db/client.ts";
import { AppError } from "../../src/lib/errors.ts";
import { type AdminDeps, revoke, setStopped } from "../../src/roles/central/admin.ts";

/** The operator's levers before they reach the database or the bus (neither is touched here). */
function deps(): AdminDeps & { bus: MemoryBus } {
  const untouched = new Proxy({}, { get: () => expect.unreachable("the database was used") }) as Db;
  return { db: untouched, bus: new MemoryBus(), topics: topicsFor("evnet"), auditor: { record: async () => {}, recordMany: async () => {} } satisfies Auditor };
}

describe("an operator's reason at Central's admin edge", () => {
  test("with a control character, is refused before anything is looked up or sent", async () => {
    const d = deps();
    const stop = await setStopped(d, "CP_1", true, "mainten\u001bance").catch((e: unknown) => e);
    expect(stop).toBeInstanceOf(AppError);
    expect((stop as AppError).message).toBe("reason must not contain control characters");
    await expect(revoke(d, "CP_1", "x".repeat(501))).rejects.toThrow("reason must be at most 500 characters");
    await d.bus.close();
  });
});
