/**
 * Live progress leaves at most once per interval per session, carrying the newest reading; a
 * reading that comes sooner is held and sent when its time comes, and nothing held is lost when
 * Central stops.
 */
import { describe, expect, test } from "bun:test";
import type { Bus, OutgoingMessage } from "../../src/bus/bus.ts";
import type { Progress } from "../../src/bus/messages.ts";
import { createLogger } from "../../src/lib/log.ts";
import type { CentralChannel } from "../../src/roles/central/channel.ts";
import { ProgressSender } from "../../src/roles/central/progress.ts";

function sender(everyMs: number, publishGapMs = 0) {
  const sent: { at: number; p: Progress }[] = [];
  const publishes: number[] = [];
  const bus = {
    publish: async (_topic: string, messages: OutgoingMessage[]) => {
      publishes.push(messages.length);
      for (const m of messages) sent.push({ at: Date.now(), p: JSON.parse(String(m.value)) });
    },
  } as unknown as Bus;
  const channel = {
    sealForDrivers: async (updates: { driverId: string; payload: unknown }[]) =>
      updates.map((u) => (u.driverId === "NO_KEY" ? undefined : { key: u.driverId, value: JSON.stringify(u.payload) })),
  } as unknown as CentralChannel;
  return { sent, publishes, progress: new ProgressSender(bus, "driver.updates", channel, createLogger("test"), () => {}, everyMs, publishGapMs) };
}

const reading = (sessionId: string, energy: number, driverId = `D_${sessionId}`): Progress => ({
  type: "progress",
  driver_id: driverId,
  cp_id: `CP_${sessionId}`,
  session_id: sessionId,
  power_kw: 22,
  energy_kwh: energy,
  cost_eur: energy * 0.3,
  elapsed_s: energy * 100,
  at: new Date().toISOString(),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("live progress to drivers", () => {
  test("a session's first reading leaves at once; newer ones within the interval are held and the newest leaves when its time comes", async () => {
    const { sent, progress } = sender(300);
    const start = Date.now();
    progress.send([reading("S1", 0.1), reading("S2", 0.5)]);
    await sleep(20);
    expect(sent.map((s) => [s.p.session_id, s.p.energy_kwh])).toEqual([
      ["S1", 0.1],
      ["S2", 0.5],
    ]);
    progress.send([reading("S1", 0.2)]);
    await sleep(50);
    progress.send([reading("S1", 0.3)]);
    await sleep(100);
    expect(sent.length).toBe(2); // held: not yet 300 ms since S1's last update
    await sleep(250);
    const s1 = sent.filter((s) => s.p.session_id === "S1");
    expect(s1.map((s) => s.p.energy_kwh)).toEqual([0.1, 0.3]); // 0.2 was replaced while held
    expect(s1[1]!.at - start).toBeGreaterThanOrEqual(300);
    await sleep(400);
    expect(sent.length).toBe(3); // nothing else was waiting
  });

  test("with no interval every reading leaves", async () => {
    const { sent, progress } = sender(0);
    for (const e of [0.1, 0.2, 0.3]) {
      progress.send([reading("S1", e)]);
      await progress.flush();
    }
    expect(sent.map((s) => s.p.energy_kwh)).toEqual([0.1, 0.2, 0.3]);
  });

  test("stopping sends what is held at once; a driver without a key hears nothing and the others are not held up", async () => {
    const { sent, progress } = sender(60_000);
    progress.send([reading("S1", 0.1), reading("S9", 0.1, "NO_KEY")]);
    progress.send([reading("S1", 0.4)]);
    await progress.flush();
    expect(sent.map((s) => [s.p.session_id, s.p.energy_kwh])).toEqual([
      ["S1", 0.1],
      ["S1", 0.4],
    ]);
  });

  test("with a publish gap, the updates of many batches leave in one publish, each session's newest", async () => {
    const { sent, publishes, progress } = sender(0, 100);
    progress.send([reading("S1", 0.1)]); // leaves at once
    for (let i = 1; i <= 5; i++) {
      await sleep(5);
      progress.send([reading("S1", 0.1 + i / 10), reading(`S${i + 1}`, 0.5)]);
    }
    await sleep(150);
    expect(publishes).toEqual([1, 6]);
    expect(sent.filter((s) => s.p.session_id === "S1").map((s) => s.p.energy_kwh)).toEqual([0.1, 0.6]);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(95);
    progress.send([reading("S1", 0.7)]);
    await progress.flush(); // stopping: what waits for the gap leaves at once
    expect(publishes).toEqual([1, 6, 1]);
  });
});
