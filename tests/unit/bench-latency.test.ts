import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LatencySampler } from "../../bench/latency.ts";

/** The API's session figures, as the sampler polls them: the energy each session shows now. */
const shown = new Map<string, number>();
let polls = 0;
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      polls++;
      const id = decodeURIComponent(new URL(req.url).pathname.split("/").pop()!);
      const energy = shown.get(id);
      return energy === undefined ? new Response("not found", { status: 404 }) : Response.json({ session: { energy_kwh: energy } });
    },
  });
});
afterAll(() => server.stop(true));

describe("the bench's latency sampler", () => {
  test("polls from the load's start, but measures only the readings sent in the window, each second's worst kept", async () => {
    const sampler = new LatencySampler(`http://127.0.0.1:${server.port}`, 5);
    shown.set("S1", 0);
    sampler.follow();
    sampler.sent("S1", 1, Date.now());
    await Bun.sleep(30);
    expect(polls).toBeGreaterThan(0); // the API is polled during the warm-up too
    shown.set("S1", 1);
    await Bun.sleep(30);
    expect(sampler.summary().count ?? 0).toBe(0); // seen, but sent before the window

    sampler.sent("S1", 2, Date.now()); // still before the window, not yet shown when it opens: dropped
    sampler.open();
    const sentAt = Date.now();
    sampler.sent("S1", 3, sentAt);
    await Bun.sleep(60);
    shown.set("S1", 3);
    await sampler.settle(2000);
    sampler.close();
    const summary = sampler.summary();
    expect(summary.count).toBe(1);
    expect(summary.p50).toBeGreaterThanOrEqual(60);
    expect(summary.unseen).toBe(0);
    expect(summary.worstBySecond).toEqual([[sentAt - (sentAt % 1000), summary.p50!]]);
  });
});
