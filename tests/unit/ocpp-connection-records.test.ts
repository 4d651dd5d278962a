/**
 * A charger's connection row follows its sockets in the order they opened and closed here, even
 * when the database answers the writes out of order. The writes here behave as the row does
 * (each `online` takes the next number, `offline` only matches the current one), and answer
 * after a delay chosen per write.
 */
import { describe, expect, test } from "bun:test";
import type { Db } from "../../src/db/client.ts";
import { ConnectionRecords, type ConnectionWrites } from "../../src/roles/ocpp/connections.ts";

/** One charger's row, with writes that take effect when they run, after `delayMs` each. */
function row(delays: number[]) {
  const state = { connection: "offline", seq: 0 };
  const log: string[] = [];
  let calls = 0;
  const after = () => Bun.sleep(delays[calls++] ?? 0);
  const writes: ConnectionWrites = {
    async online(_cpId, subprotocol) {
      await after();
      state.seq++;
      state.connection = "online";
      log.push(`online ${subprotocol} #${state.seq}`);
      return state.seq;
    },
    async offline(_cpId, connection) {
      await after();
      if (state.seq === connection) state.connection = "offline";
      log.push(`offline #${connection}`);
    },
  };
  return { state, log, writes };
}

describe("a charger's connection records", () => {
  test("a newer socket recorded while the older one's write is slow stays online when the older one closes", async () => {
    // The first socket's write takes longest: issued at once, the second would be numbered first.
    const r = row([60, 0, 0]);
    const records = new ConnectionRecords({} as Db, "gw", r.writes);
    const first = records.opened("CP1", "first");
    const second = records.opened("CP1", "second");
    await records.closed("CP1", first);
    expect(await second).toBe(2);
    expect(r.log).toEqual(["online first #1", "online second #2", "offline #1"]);
    expect(r.state).toEqual({ connection: "online", seq: 2 });
  });

  test("a socket that closes before its opening was written is offline after both", async () => {
    const r = row([40, 0]);
    const records = new ConnectionRecords({} as Db, "gw", r.writes);
    const only = records.opened("CP1", "only");
    await records.closed("CP1", only);
    expect(r.state).toEqual({ connection: "offline", seq: 1 });
  });

  test("a failed write does not hold back the charger's next ones, nor other chargers'", async () => {
    const calls: string[] = [];
    const records = new ConnectionRecords({} as Db, "gw", {
      async online(cpId, subprotocol) {
        calls.push(`${cpId} ${subprotocol}`);
        if (subprotocol === "broken") throw new Error("database away");
        return 1;
      },
      async offline() {},
    });
    await expect(records.opened("CP1", "broken")).rejects.toThrow("database away");
    expect(await records.opened("CP1", "again")).toBe(1);
    expect(await records.opened("CP2", "other")).toBe(1);
    expect(calls).toEqual(["CP1 broken", "CP1 again", "CP2 other"]);
  });
});
