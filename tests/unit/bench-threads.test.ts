import { describe, expect, test } from "bun:test";
import { threadCpuSeconds } from "../../bench/proc.ts";
import { drainThreads } from "../../bench/report.ts";
import type { DrainResult } from "../../bench/step.ts";

/** Keeps this thread busy until the process has used `seconds` more CPU (by the runtime's own count). */
function spinFor(seconds: number): void {
  const from = process.cpuUsage();
  while (true) {
    const used = process.cpuUsage(from);
    if ((used.user + used.system) / 1e6 >= seconds) return;
  }
}

const others = (t: { byThread: Record<string, number> }) =>
  Object.entries(t.byThread)
    .filter(([name]) => name !== "main")
    .reduce((sum, [, s]) => sum + s, 0);

describe("the bench's read of a process's threads", () => {
  test("the JavaScript thread's time shows as main, a worker's under its own thread", async () => {
    const before = threadCpuSeconds(process.pid)!;
    spinFor(0.3);
    const spun = threadCpuSeconds(process.pid)!;
    expect(spun.byThread.main! - before.byThread.main!).toBeGreaterThanOrEqual(0.2);
    expect(spun.system).toBeGreaterThanOrEqual(0);

    // a worker that keeps its own thread busy while this one waits
    const worker = new Worker(URL.createObjectURL(new Blob(["const until = Date.now() + 400; while (Date.now() < until) {} postMessage('done');"])));
    await new Promise((resolve) => {
      worker.onmessage = resolve;
    });
    const after = threadCpuSeconds(process.pid)!;
    worker.terminate();
    expect(others(after) - others(spun)).toBeGreaterThanOrEqual(0.1);
    expect(after.byThread.main! - spun.byThread.main!).toBeLessThan(0.2);
  });

  test("a process that is gone gives nothing", () => {
    expect(threadCpuSeconds(2 ** 22 + 1)).toBeUndefined();
  });
});

describe("the drains' threads in the report", () => {
  const drain = (centrals: number, threads: DrainResult["centralThreads"]): DrainResult => ({
    kind: "drain",
    chargers: 10_000,
    centrals,
    backlog: 1_000_000,
    perSecond: 200_000,
    seconds: 4,
    cpu: { central: 1.5, postgres: 0.1, kafka: 0.3, api: 0, load: 0, machineBusy: 1 },
    centralPeakRssMiB: [],
    centralWarnings: [],
    centralThreads: threads,
  });

  test("summed over a drain's Centrals, largest first, the smallest left out, per message", () => {
    const lines = drainThreads([
      drain(1, [{ byThread: { main: 5, Worker: 1.5, JITWorker: 1.25, tiny: 0.01 }, system: 2 }]),
      drain(2, [
        { byThread: { main: 3, Worker: 0.75, JITWorker: 1.5 }, system: 1 },
        { byThread: { main: 3.5, Worker: 1, JITWorker: 1.25 }, system: 1.5 },
        null,
      ]),
    ]);
    expect(lines.slice(4)).toEqual([
      "| 10,000 | 1 | 7.76 | 7.8 | main 5.00 · Worker 1.50 · JITWorker 1.25 | 2.00 |",
      "| 10,000 | 2 | 11.00 | 11.0 | main 6.50 · JITWorker 2.75 · Worker 1.75 | 2.50 |",
    ]);
  });

  test("runs without the figure give no table", () => {
    expect(drainThreads([drain(1, undefined), drain(2, [null, null])])).toEqual([]);
  });
});
