/**
 * A driver's app while the broker cannot be reached (the in-process bus with publishing switched
 * off; a test plays Central): it tells the driver, keeps the request, sends it when the broker is
 * back, and the time it waited does not count against its timeout. Its stop request carries the
 * proof the charger checks; when Central stays silent after a stop it says what happens.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { DriverRequest } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { open, SequenceCounter, seal, UNCHECKED_SEQUENCES } from "../../src/crypto/envelope.ts";
import { newChannelKey } from "../../src/crypto/keys.ts";
import { isStopProof, newStopToken } from "../../src/crypto/stop-token.ts";
import { createLogger } from "../../src/lib/log.ts";
import { createDriverChannel } from "../../src/roles/driver/channel.ts";
import { DriverClient } from "../../src/roles/driver/client.ts";
import { SwitchableBus } from "../support/switchable-bus.ts";
import { waitFor } from "../support/wait.ts";

const topics = topicsFor("t-driver");
/** D1's channel key: its requests are sealed with it, and what the test sends as Central too. */
const key = newChannelKey();
const central = new SequenceCounter();
let memory: MemoryBus;
let client: DriverClient;
const requests: DriverRequest[] = [];

async function driver(retryMs = 300): Promise<SwitchableBus> {
  memory = new MemoryBus();
  const bus = new SwitchableBus(memory);
  requests.length = 0;
  await memory.subscribe({ topics: [topics.driverRequests], groupId: "central", from: "earliest" }, async (batch) => {
    for (const m of batch)
      requests.push(
        (await open<DriverRequest>(m.value, () => ({ key: key.key, subject: "driver:D1", revoked: false }), UNCHECKED_SEQUENCES, "driver:D1")).payload,
      );
  });
  client = new DriverClient({
    driverId: "D1",
    channel: createDriverChannel("D1", key),
    bus,
    topics,
    topicPrefix: "t-driver",
    log: createLogger("driver"),
    retryMs,
  });
  await client.listen();
  return bus;
}

async function answer(update: object): Promise<void> {
  await memory.publish(topics.driverUpdates, [
    {
      key: "D1",
      value: seal({ sub: "driver:D1", kid: key.keyId, sender: "central:test", seq: central.next() }, key.key, {
        driver_id: "D1",
        cp_id: "CP_1",
        at: new Date().toISOString(),
        ...update,
      }),
    },
  ]);
}

afterEach(async () => {
  await client?.close();
  await memory?.close();
});

describe("a driver's app while the broker is away", () => {
  test("says so, keeps the request, sends it once the broker is back, and does not count the wait against its timeout", async () => {
    const bus = await driver();
    bus.refused.add(topics.driverRequests);
    const notices: string[] = [];
    const asked = client.requestCharge("CP_1", 1500, (text) => notices.push(text));
    await waitFor(() => notices.length === 1, "a notice");
    expect(notices[0]).toContain("cannot reach the charging network");
    await Bun.sleep(2500); // longer than the timeout: the broker being away does not count
    expect(requests).toHaveLength(0);
    bus.refused.delete(topics.driverRequests);
    await waitFor(() => requests.length > 0, "the request sent once the broker is back");
    await waitFor(() => notices.length === 2, "the second notice");
    expect(notices[1]).toContain("reachable again");
    const sent = requests[0]!;
    await answer({ type: "authorised", request_id: sent.request_id, session_id: "S-1", price_per_kwh: 0.3 });
    expect(await asked).toMatchObject({ type: "authorised", session_id: "S-1" });
    expect(new Set(requests.map((r) => r.request_id)).size).toBe(1); // copies carry one request id
  });

  test("a stop carries the proof the charger checks; Central silent, the driver is told the charger stops by itself", async () => {
    await driver(200);
    const token = newStopToken();
    const notices: string[] = [];
    const stopped = client.stop(20_000, { sessionId: "S-2", cpId: "CP_1", stopToken: token }, (text) => notices.push(text));
    await waitFor(() => requests.length > 0, "the stop request");
    const stop = requests[0]!;
    expect(stop.type).toBe("stop_request");
    if (stop.type !== "stop_request") return;
    expect(stop.stop_proof).toBeDefined();
    expect(isStopProof(token, "S-2", stop.request_id, stop.stop_proof!)).toBe(true);
    expect(JSON.stringify(stop)).not.toContain(token); // the token itself never travels
    await waitFor(() => notices.some((n) => n.includes("the charger stops on your request by itself")), "the notice", { timeoutMs: 5000 });
    await answer({
      type: "ticket",
      session_id: "S-2",
      energy_kwh: 0.01,
      price_per_kwh: 0.3,
      cost_eur: 0,
      started_at: new Date(Date.now() - 5000).toISOString(),
      ended_at: new Date().toISOString(),
      duration_s: 5,
      end_reason: "driver_stop",
    });
    expect(await stopped).toMatchObject({ type: "ticket", session_id: "S-2" });
  });

  test("a corrected ticket replaces the first in the app's tickets", async () => {
    await driver();
    const ticket = {
      type: "ticket",
      session_id: "S-3",
      price_per_kwh: 0.3,
      started_at: new Date(Date.now() - 5000).toISOString(),
      ended_at: new Date().toISOString(),
      duration_s: 5,
      end_reason: "driver_stop",
    };
    await answer({ ...ticket, energy_kwh: 0.01, cost_eur: 0 });
    await answer({ ...ticket, energy_kwh: 0.04, cost_eur: 0.01, corrected: true });
    await waitFor(() => client.tickets[0]?.corrected === true, "the corrected ticket kept");
    expect(client.tickets).toHaveLength(1);
    expect(client.tickets[0]).toMatchObject({ energy_kwh: 0.04, corrected: true });
  });
});
