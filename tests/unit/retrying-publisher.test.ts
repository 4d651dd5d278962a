import { describe, expect, test } from "bun:test";
import { type Bus, BusError, type OutgoingMessage } from "../../src/bus/bus.ts";
import { RetryingPublisher } from "../../src/bus/retrying-publisher.ts";
import { createLogger } from "../../src/lib/log.ts";
import { waitFor } from "../support/wait.ts";

/** A bus whose publish fails while `down` is true, and records what it took. */
function flakyBus() {
  const taken: string[] = [];
  const state = { down: true };
  const bus = {
    kind: "memory",
    async publish(_topic: string, messages: OutgoingMessage[]) {
      if (state.down) throw new BusError("unavailable", "broker away");
      taken.push(...messages.map((m) => String(m.value)));
    },
  } as unknown as Bus;
  return { bus, taken, state };
}

describe("a publisher that keeps messages while the bus is away", () => {
  test("sends everything, in order, once the bus is back", async () => {
    const { bus, taken, state } = flakyBus();
    const p = new RetryingPublisher(bus, createLogger("test"), { retryMs: 20 });
    for (const v of ["a", "b", "c"]) p.send("t", () => ({ key: "k", value: v }));
    await Bun.sleep(60);
    expect(taken).toEqual([]);
    expect(p.failing).toBe(true);
    expect(p.backlog).toBe("waiting to send 3 message(s) (bus unreachable)");
    state.down = false;
    await waitFor(() => taken.length === 3, "the queue to drain");
    expect(taken).toEqual(["a", "b", "c"]);
    expect(p.backlog).toBeUndefined();
    p.close();
  });

  test("a message that cannot be built yet (no key) waits at the head of the queue", async () => {
    const { bus, taken, state } = flakyBus();
    state.down = false;
    let key: string | undefined;
    const p = new RetryingPublisher(bus, createLogger("test"), { retryMs: 20 });
    p.send("t", () => (key ? { key: "k", value: `sealed with ${key}` } : undefined));
    p.send("t", () => ({ key: "k", value: "after" }));
    await Bun.sleep(60);
    expect(taken).toEqual([]);
    key = "K1";
    await waitFor(() => taken.length === 2, "both sent");
    expect(taken).toEqual(["sealed with K1", "after"]);
    p.close();
  });

  test("only the latest of the messages sharing a tag waits (heartbeats)", async () => {
    const { bus, taken, state } = flakyBus();
    const p = new RetryingPublisher(bus, createLogger("test"), { retryMs: 20 });
    p.send("t", () => ({ key: "k", value: "first" }));
    for (const v of ["hb1", "hb2", "hb3"]) p.send("t", () => ({ key: "k", value: v }), true, "heartbeat");
    state.down = false;
    await waitFor(() => taken.length === 2, "the queue to drain");
    expect(taken).toEqual(["first", "hb3"]);
    p.close();
  });

  test("a newer heartbeat sent while the older one is on its way to the broker is sent too, not lost", async () => {
    const taken: string[] = [];
    let release: () => void = () => {};
    const bus = {
      kind: "memory",
      async publish(_topic: string, messages: OutgoingMessage[]) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        taken.push(...messages.map((m) => String(m.value)));
      },
    } as unknown as Bus;
    const p = new RetryingPublisher(bus, createLogger("test"), { retryMs: 20 });
    p.send("t", () => ({ key: "k", value: "first" }));
    p.send("t", () => ({ key: "k", value: "reading" }), true);
    p.send("t", () => ({ key: "k", value: "hb1" }), true, "heartbeat");
    await Bun.sleep(5);
    release(); // "first" is taken; the reading and hb1 go out together
    await waitFor(() => taken.length === 1, "the first batch");
    await Bun.sleep(5);
    p.send("t", () => ({ key: "k", value: "hb2" }), true, "heartbeat");
    p.send("t", () => ({ key: "k", value: "hb3" }), true, "heartbeat");
    release();
    await waitFor(() => taken.length === 3, "the second batch");
    await Bun.sleep(5);
    release();
    await waitFor(() => taken.length === 4, "the third batch");
    expect(taken).toEqual(["first", "reading", "hb1", "hb3"]);
    p.close();
  });

  test("in a long queue each tag keeps one message, in the place of its first, and batches go up to maxBatch", async () => {
    const { bus, taken, state } = flakyBus();
    const batches: number[] = [];
    const counting = {
      kind: "memory",
      async publish(topic: string, messages: OutgoingMessage[]) {
        await bus.publish(topic, messages);
        batches.push(messages.length);
      },
    } as unknown as Bus;
    const p = new RetryingPublisher(counting, createLogger("test"), { retryMs: 20, maxBatch: 1000 });
    for (let i = 0; i < 2000; i++) {
      p.send("t", () => ({ key: "k", value: `reading ${i}` }), true);
      p.send("t", () => ({ key: "k", value: `heartbeat ${i % 10} #${i}` }), true, `hb:${i % 10}`);
    }
    expect(p.pending).toBe(2010);
    state.down = false;
    await waitFor(() => taken.length === 2010, "the queue to drain");
    expect(batches).toEqual([1000, 1000, 10]);
    expect(taken.filter((v) => v.startsWith("heartbeat"))).toEqual(Array.from({ length: 10 }, (_, k) => `heartbeat ${k} #${1990 + k}`));
    expect(taken.indexOf("heartbeat 0 #1990")).toBe(1); // where heartbeat 0 was first queued
    p.close();
  });
});
