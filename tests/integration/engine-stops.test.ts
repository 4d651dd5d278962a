/**
 * The engine on its own (the in-process bus; a test plays Central and the driver): it stops on
 * its driver's own stop request when the request proves the session's stop token, refuses one
 * that does not, says what it supplies when it starts and when asked, and does not start a
 * session sealed for the engine that ran before it.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { CpEvent, EngineState, SupplyEnded } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { MemorySequences, open, SequenceCounter, seal } from "../../src/crypto/envelope.ts";
import { type ChannelKey, newChannelKey } from "../../src/crypto/keys.ts";
import { newStopToken, stopHeaders, stopProof } from "../../src/crypto/stop-token.ts";
import { createLogger } from "../../src/lib/log.ts";
import { Engine } from "../../src/roles/cp-engine/engine.ts";
import { createDriverChannel } from "../../src/roles/driver/channel.ts";
import { waitFor } from "../support/wait.ts";

const CP = "CP_ENG";
const topics = topicsFor("t-engine");
const central = new SequenceCounter();
const driverKey = newChannelKey();
let bus: MemoryBus;
let engine: Engine;
let key: ChannelKey;
const events: CpEvent[] = [];

async function startEngine(): Promise<void> {
  bus = new MemoryBus();
  key = newChannelKey();
  events.length = 0;
  await bus.subscribe({ topics: [topics.cpEvents], groupId: "central", from: "earliest" }, async (batch) => {
    for (const m of batch) {
      const opened = await open<CpEvent>(m.value, () => ({ key: key.key, subject: `cp:${CP}`, revoked: false }), new MemorySequences(), `cp:${CP}`);
      events.push(opened.payload);
    }
  });
  engine = new Engine({ cpId: CP, powerKw: 36, maxDurationS: 600, telemetryMs: 100, bus, topics, topicPrefix: "t-engine", log: createLogger("engine") });
  engine.setKey(key);
  await engine.listen();
}

afterEach(async () => {
  await engine?.stop();
  await bus?.close();
});

async function fromCentral(payload: object, ts?: number): Promise<void> {
  await bus.publish(topics.cpCommands, [
    { key: CP, value: seal({ sub: `cp:${CP}`, kid: key.keyId, sender: "central:test", seq: central.next(), ts }, key.key, payload) },
  ]);
}

async function supplying(sessionId: string, stopToken: string): Promise<void> {
  await fromCentral({ type: "start_supply", session_id: sessionId, driver_id: "D1", price_per_kwh: 0.5, stop_token: stopToken });
  await waitFor(() => engine.sessionId === sessionId, "supplying");
}

async function driverStop(sessionId: string, proof: (requestId: string) => string | undefined): Promise<void> {
  const requestId = crypto.randomUUID();
  const stopProofField = proof(requestId);
  // As the driver's app sends it: sealed for Central under the driver's key, the proof in the headers for the charger.
  const sealed = createDriverChannel("D1", driverKey).seal(
    {
      type: "stop_request",
      request_id: requestId,
      driver_id: "D1",
      cp_id: CP,
      session_id: sessionId,
      at: new Date().toISOString(),
      ...(stopProofField ? { stop_proof: stopProofField } : {}),
    },
    CP,
  );
  await bus.publish(topics.driverRequests, [{ ...sealed, ...(stopProofField && { headers: stopHeaders({ sessionId, requestId, proof: stopProofField }) }) }]);
}

describe("the engine and its driver's stop", () => {
  test("stops at once on a stop request that proves the session's token, and reports its final reading", async () => {
    await startEngine();
    const token = newStopToken();
    await supplying("S-1", token);
    await Bun.sleep(300);
    await driverStop("S-1", (requestId) => stopProof(token, "S-1", requestId));
    await waitFor(() => engine.sessionId === undefined, "the supply stopped");
    await waitFor(() => events.some((e) => e.type === "supply_ended"), "the final reading sent");
    const ended = events.find((e): e is SupplyEnded => e.type === "supply_ended")!;
    expect(ended).toMatchObject({ session_id: "S-1", reason: "driver_stop" });
    expect(ended.energy_kwh).toBeGreaterThan(0);
  });

  test("goes on supplying for a stop request without a proof, with a wrong one, or for another session", async () => {
    await startEngine();
    const token = newStopToken();
    await supplying("S-2", token);
    await driverStop("S-2", () => undefined);
    await driverStop("S-2", (requestId) => stopProof(newStopToken(), "S-2", requestId));
    await driverStop("S-2", () => stopProof(token, "S-2", "another-request"));
    await driverStop("S-other", (requestId) => stopProof(token, "S-other", requestId));
    await bus.publish(topics.driverRequests, [{ key: CP, value: "{not json" }]);
    await Bun.sleep(500);
    expect(engine.sessionId).toBe("S-2");
    expect(events.some((e) => e.type === "supply_ended")).toBe(false);
  });
});

describe("the engine says what it supplies", () => {
  test("when it starts (nothing) and when Central asks (its session and meter)", async () => {
    await startEngine();
    await waitFor(() => events.some((e) => e.type === "engine_state"), "the state at start");
    expect(events[0]).toMatchObject({ type: "engine_state", session_id: null, cause: "started" });
    await supplying("S-3", newStopToken());
    await Bun.sleep(300);
    await fromCentral({ type: "report_state" });
    await waitFor(() => events.some((e) => e.type === "engine_state" && e.cause === "asked"), "the state asked for");
    const asked = events.find((e): e is EngineState => e.type === "engine_state" && e.cause === "asked")!;
    expect(asked.session_id).toBe("S-3");
    expect(asked.energy_kwh).toBeGreaterThan(0);
  });

  test("does not start again a session it supplied and ended when its start is delivered again", async () => {
    await startEngine();
    const token = newStopToken();
    await supplying("S-4", token);
    await driverStop("S-4", (requestId) => stopProof(token, "S-4", requestId));
    await waitFor(() => engine.sessionId === undefined, "the supply stopped");
    await fromCentral({ type: "start_supply", session_id: "S-4", driver_id: "D1", price_per_kwh: 0.5, stop_token: token });
    await Bun.sleep(400);
    expect(engine.sessionId).toBeUndefined();
    expect(events.filter((e) => e.type === "supply_started")).toHaveLength(1);
  });

  test("refuses to start a session sealed before it started: it was meant for the engine that ran before", async () => {
    await startEngine();
    await fromCentral({ type: "start_supply", session_id: "S-old", driver_id: "D1", price_per_kwh: 0.5 }, Date.now() - 5000);
    await waitFor(() => events.some((e) => e.type === "supply_refused"), "a refusal");
    expect(events.find((e) => e.type === "supply_refused")).toMatchObject({ session_id: "S-old" });
    expect(engine.sessionId).toBeUndefined();
  });
});
