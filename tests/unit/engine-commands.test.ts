/**
 * A charger's engine and the commands it reads (the in-process bus standing in for Kafka):
 * commands sealed under a key it does not hold wait aside, without holding up the genuine ones
 * behind them, and a command Central sealed under the CP's next key applies once the monitor
 * hands that key over.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/bus/memory.ts";
import type { CpCommand } from "../../src/bus/messages.ts";
import { topicsFor } from "../../src/bus/topics.ts";
import { SequenceCounter, seal } from "../../src/crypto/envelope.ts";
import { type ChannelKey, newChannelKey } from "../../src/crypto/keys.ts";
import { createLogger } from "../../src/lib/log.ts";
import { Engine } from "../../src/roles/cp-engine/engine.ts";
import { waitFor } from "../support/wait.ts";

const topics = topicsFor("t");
const counter = new SequenceCounter();
let running: { engine: Engine; bus: MemoryBus } | undefined;

afterEach(async () => {
  await running?.engine.stop();
  await running?.bus.close();
  running = undefined;
});

async function engineWith(key: ChannelKey): Promise<{ engine: Engine; bus: MemoryBus }> {
  const bus = new MemoryBus();
  const engine = new Engine({ cpId: "CP_E", powerKw: 22, maxDurationS: 600, telemetryMs: 1000, bus, topics, topicPrefix: "t", log: createLogger("engine") });
  await engine.listen();
  engine.setKey(key);
  running = { engine, bus };
  return running;
}

/** A command as Central seals it for CP_E under `key`. */
function fromCentral(key: ChannelKey, command: CpCommand) {
  return { key: "CP_E", value: seal({ sub: "cp:CP_E", kid: key.keyId, sender: "central:test", seq: counter.next() }, key.key, command) };
}

const start = (sessionId: string): CpCommand => ({ type: "start_supply", session_id: sessionId, driver_id: "D1", price_per_kwh: 0.3 });

describe("an engine reading its commands", () => {
  test("does not let commands under an unknown key id hold up a genuine one behind them", async () => {
    const key = newChannelKey();
    const { engine, bus } = await engineWith(key);
    const forged = { ...newChannelKey(), keyId: "k_forged" };
    await bus.publish(topics.cpCommands, [fromCentral(forged, start("S-FORGED-1")), fromCentral(forged, start("S-FORGED-2"))]);
    await bus.publish(topics.cpCommands, [fromCentral(key, start("S-GENUINE"))]);
    // The forged ones would each wait up to 30 s for a key if they held the line.
    await waitFor(() => engine.sessionId === "S-GENUINE", "the genuine start applied", { timeoutMs: 10_000 });
  });

  test("applies a command sealed under the CP's next key once the monitor hands that key over", async () => {
    const { engine, bus } = await engineWith(newChannelKey());
    const next = newChannelKey();
    await bus.publish(topics.cpCommands, [fromCentral(next, start("S-NEXT"))]);
    await Bun.sleep(200);
    expect(engine.sessionId).toBeUndefined();
    engine.setKey(next);
    await waitFor(() => engine.sessionId === "S-NEXT", "the waiting start applied with the new key", { timeoutMs: 10_000 });
  });
});
