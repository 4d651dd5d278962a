/**
 * `npm run bench:console`: how the operator's console behaves in Chromium with 10,000 chargers.
 * A fresh database gets N chargers (tests/support/fleet-seed.ts), the API serves it, and real
 * headless Chromium (Debian's, through playwright-core) opens the console RUNS times, each in a
 * fresh profile with the cache off. For each load it records, in the page's own clock:
 *  - when the HTML was parsed (DOMContentLoaded) and when the first page of chargers was drawn;
 *  - time to interactive: the first moment after the chargers are drawn that is followed by
 *    QUIET_MS without a long task (over 50 ms) on the main thread (Lighthouse's definition,
 *    without its network condition: the live stream stays open by design);
 *  - a search: typing a charger's id until its card alone is shown (250 ms of it is the page's
 *    wait for the typing to pause);
 *  - memory: the JS heap in use after a forced garbage collection and the DOM's node count
 *    (Chrome DevTools Protocol, Performance.getMetrics), how much the resident memory of the
 *    browser's renderer processes grew from an empty tab to the page (/proc), and the bytes that
 *    reached the page (the live stream's included).
 * With BENCH_CONSOLE_MAIN=<checkout>/src/main.ts the same is measured against another tree's API
 * (the dashboard before the console, for comparison). Figures are printed and, with --write,
 * put between the console markers of docs/benchmarks.md. Settings: BENCH_CONSOLE_CHARGERS
 * (10000), BENCH_CONSOLE_RUNS (5).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { startTestApi, TEST_OPERATOR_TOKEN, TEST_SERVICE_TOKEN } from "../tests/support/api-server.ts";
import { LAPTOP, launchChromium } from "../tests/support/browser.ts";
import { seedFleet } from "../tests/support/fleet-seed.ts";
import { freePort } from "../tests/support/network-processes.ts";
import { spawnRole } from "../tests/support/processes.ts";
import { waitFor } from "../tests/support/wait.ts";

const REPO = new URL("..", import.meta.url).pathname;
const CHARGERS = Number(process.env.BENCH_CONSOLE_CHARGERS ?? 10_000);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 5);
const OTHER_MAIN = process.env.BENCH_CONSOLE_MAIN;
const QUIET_MS = 2000;
const START = "<!-- bench:console:start -->";
const END = "<!-- bench:console:end -->";

interface Load {
  domContentLoadedMs: number;
  chargersShownMs: number;
  interactiveMs: number;
  longTasks: number;
  longestTaskMs: number;
  searchMs: number;
  heapMiB: number;
  domNodes: number;
  /** Growth of the resident memory of the browser's renderer processes from an empty tab to the page. */
  rendererMiB: number;
  receivedKiB: number;
}

/**
 * Resident memory (VmRSS) of the renderer processes of the Chromium started with `profile`: the
 * page's, and the few Chromium keeps ready or for its own pages (the same for any page shown,
 * so a difference between two pages is the pages' own).
 */
function rendererRssMiB(profile: string): number {
  const procs = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        // Zygote-forked children rewrite their command line into one string: match on the text.
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
        const ppid = Number(/\) \S+ (\d+)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1]);
        const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
        return [{ pid: Number(pid), ppid, cmdline, rssKiB }];
      } catch {
        return []; // gone meanwhile
      }
    });
  const root = procs.find((p) => p.cmdline.includes(`--user-data-dir=${profile}`) && !p.cmdline.includes("--type="));
  if (!root) return Number.NaN;
  const mine = new Set([root.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) grew = Boolean(mine.add(p.pid));
  }
  const renderers = procs.filter((p) => mine.has(p.pid) && p.cmdline.includes("--type=renderer"));
  return renderers.reduce((sum, p) => sum + p.rssKiB, 0) / 1024;
}

/** Runs in the page before its scripts: notes long tasks and when the first charger card appears. */
const PROBE = () => {
  const w = window as unknown as { __bench: { longTasks: { start: number; end: number }[]; chargersAt?: number } };
  w.__bench = { longTasks: [] };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.__bench.longTasks.push({ start: e.startTime, end: e.startTime + e.duration });
  }).observe({ type: "longtask", buffered: true });
  new MutationObserver((_m, observer) => {
    if (document.querySelector("[data-cp]")) {
      w.__bench.chargersAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
};

function servicesUp(): void {
  const result = Bun.spawnSync(["bash", join(REPO, "scripts/services.sh"), "up"], { stdout: "pipe", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error("scripts/services.sh up failed");
  const out = result.stdout.toString();
  const value = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(out)?.[1]?.trim();
  process.env.TEST_DATABASE_URL ??= value("DATABASE_URL");
  process.env.TEST_KAFKA_BROKERS ??= value("KAFKA_BROKERS");
}

async function measureOnce(url: string, searchFor: string): Promise<Load> {
  const browser = await launchChromium();
  try {
    const page: Page = await browser.newPage(LAPTOP);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Performance.enable");
    // Every byte that reached the page, the live stream's included (it never "finishes").
    let received = 0;
    cdp.on("Network.dataReceived", (e: { dataLength: number }) => (received += e.dataLength));
    await page.goto("about:blank");
    await page.waitForTimeout(500);
    const baseline = rendererRssMiB(browser.profile); // an empty tab and Chromium's spare renderers
    await page.addInitScript(PROBE);
    await page.goto(url, { waitUntil: "domcontentloaded" });
    await page.waitForSelector("[data-cp]", { timeout: 120_000 });
    await page.waitForTimeout(QUIET_MS + 500);
    const timing = await page.evaluate((quietMs) => {
      const b = (window as unknown as { __bench: { longTasks: { start: number; end: number }[]; chargersAt: number } }).__bench;
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      // The first point after the chargers are drawn with no long task in the next quietMs.
      let interactive = b.chargersAt;
      for (const t of b.longTasks.sort((x, y) => x.start - y.start)) if (t.end > interactive && t.start < interactive + quietMs) interactive = t.end;
      return {
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        chargersShownMs: b.chargersAt,
        interactiveMs: interactive,
        longTasks: b.longTasks.length,
        longestTaskMs: Math.max(0, ...b.longTasks.map((t) => t.end - t.start)),
      };
    }, QUIET_MS);
    // A search, where the page has one (the dashboard before the console had none).
    let searchMs = Number.NaN;
    if ((await page.locator("#fleet-q").count()) > 0) {
      const typedAt = await page.evaluate(() => performance.now());
      await page.fill("#fleet-q", searchFor);
      await page.waitForFunction((id) => {
        const cards = document.querySelectorAll("#cps [data-cp]");
        return cards.length === 1 && (cards[0] as HTMLElement).dataset.cp === id;
      }, searchFor);
      searchMs = (await page.evaluate(() => performance.now())) - typedAt;
      await page.fill("#fleet-q", "");
      await page.waitForFunction(() => document.querySelectorAll("#cps [data-cp]").length > 1);
    }
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = (await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] };
    const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
    return {
      ...timing,
      searchMs,
      heapMiB: metric("JSHeapUsedSize") / 1024 / 1024,
      domNodes: metric("Nodes"),
      rendererMiB: rendererRssMiB(browser.profile) - baseline,
      receivedKiB: received / 1024,
    };
  } finally {
    await browser.close();
  }
}

/** An API from another checkout (BENCH_CONSOLE_MAIN) on the same database, for comparison. */
async function otherApi(databaseUrl: string): Promise<{ url: string; stop(): Promise<unknown> }> {
  const port = await freePort();
  const role = spawnRole(
    "other-api",
    ["api", "--port", String(port)],
    {
      DATABASE_URL: databaseUrl,
      EVNET_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-api-tests-only",
      EVNET_TOPIC_PREFIX: `bench-console-${Date.now()}`,
    },
    { command: [process.execPath, OTHER_MAIN!], cwd: join(OTHER_MAIN!, "../..") },
  );
  await role.waitForLine(/listening/, 60_000);
  return { url: `http://127.0.0.1:${port}`, stop: () => role.stop() };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function row(label: string, loads: Load[]): string {
  const m = (k: keyof Load, digits = 0) => {
    const value = median(loads.map((l) => l[k]));
    return Number.isNaN(value) ? "—" : value.toFixed(digits);
  };
  const range = (k: keyof Load) => `${Math.min(...loads.map((l) => l[k])).toFixed(0)}–${Math.max(...loads.map((l) => l[k])).toFixed(0)}`;
  return `| ${label} | ${m("domContentLoadedMs")} | ${m("chargersShownMs")} | **${m("interactiveMs")}** (${range("interactiveMs")}) | ${m("longTasks")} / ${m("longestTaskMs")} | ${m("searchMs")} | **${m("rendererMiB")}** | ${m("heapMiB", 1)} | ${m("domNodes")} | ${m("receivedKiB")} |`;
}

async function main(): Promise<void> {
  servicesUp();
  const api = await startTestApi();
  const other = OTHER_MAIN ? await otherApi(api.database.url) : undefined;
  try {
    console.log(`seeding ${CHARGERS} chargers…`);
    await seedFleet(api.seed.db, CHARGERS);
    await waitFor(async () => (await fetch(`${api.url}/ev/central/summary`)).ok, "the API to answer");
    const searchFor = `CP_${String(CHARGERS - 1).padStart(5, "0")}`;
    const loads: Load[] = [];
    for (let i = 0; i < RUNS; i++) {
      loads.push(await measureOnce(`${api.url}/`, searchFor));
      console.log(`console run ${i + 1}:`, JSON.stringify(loads.at(-1)));
    }
    const otherLoads: Load[] = [];
    if (other)
      for (let i = 0; i < RUNS; i++) {
        otherLoads.push(
          await measureOnce(`${other.url}/`, searchFor).catch((err) => {
            console.log(`other run failed: ${err.message}`);
            return undefined as unknown as Load;
          }),
        );
        console.log(`other run ${i + 1}:`, JSON.stringify(otherLoads.at(-1)));
      }
    const load = Bun.spawnSync(["cat", "/proc/loadavg"]).stdout.toString().split(" ").slice(0, 3).join(" ");
    const lines = [
      START,
      `Run of ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: ${CHARGERS.toLocaleString("en-GB")} chargers, ${RUNS} cold loads each (fresh profile, cache off), Chromium ${Bun.spawnSync(
        ["/usr/bin/chromium", "--version"],
      )
        .stdout.toString()
        .trim()
        .replace(/^Chromium /, "")}, 1366×900; load average at the end ${load}. Medians (range).`,
      "",
      "| page | DOMContentLoaded ms | chargers shown ms | interactive ms | long tasks / longest ms | search ms | renderer RSS growth MiB | JS heap MiB | DOM nodes | received KiB |",
      "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      row("console (this tree)", loads),
      ...(otherLoads.filter(Boolean).length ? [row("dashboard before the console", otherLoads.filter(Boolean))] : []),
      END,
    ];
    const block = lines.join("\n");
    console.log(`\n${block}\n`);
    if (process.argv.includes("--write")) {
      const file = join(REPO, "docs/benchmarks.md");
      const doc = readFileSync(file, "utf8");
      if (!doc.includes(START) || !doc.includes(END)) throw new Error(`docs/benchmarks.md has no ${START} … ${END} section to fill`);
      writeFileSync(file, doc.slice(0, doc.indexOf(START)) + block + doc.slice(doc.indexOf(END) + END.length));
      console.log("wrote docs/benchmarks.md (the console section)");
    }
  } finally {
    await other?.stop();
    await api.stop();
  }
}

await main();
