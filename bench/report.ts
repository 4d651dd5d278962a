/**
 * The benchmark's output: a markdown table (printed, and written into docs/benchmarks.md
 * between its generated-results markers, so the hand-written method and analysis around it
 * stay) and the raw figures as JSON.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DelaySummary } from "./central-delay.ts";
import type { Machine } from "./machine.ts";
import type { Ceiling } from "./measure-ceiling.ts";
import type { OcppResult } from "./ocpp.ts";
import { TOP_STATEMENTS } from "./pg-statements.ts";
import { differenceOf, firstCentral, meanOf, type Series, thirds, trendPerMinute, windowsOf } from "./stats.ts";
import type { DrainResult, SteadyResult } from "./step.ts";

export interface BenchRun {
  machine: Machine;
  settings: Record<string, unknown>;
  ceiling: Ceiling;
  steady: SteadyResult[];
  /** Long steady runs at one size, one Central: Central's memory over time. */
  soak: SteadyResult[];
  drain: DrainResult[];
  /** OCPP chargers through one gateway. */
  ocpp: OcppResult[];
  /** Sizes skipped because a smaller one could not keep up. */
  skipped: { chargers: number; centrals: number; reason: string }[];
  finishedAt: string;
}

const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

const int = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "–" : Math.round(x).toLocaleString("en-US"));
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** A series' thirds as "a / b / c", or "–" with too few samples (a run before the figure). */
function byThirds(series: Series): string {
  const t = thirds(series);
  return t ? t.map(int).join(" / ") : "–";
}

/** Threads that used less than this many CPU seconds in a drain are left out of its row. */
const THREAD_SHOWN_FROM_S = 0.05;

/**
 * The drains' CPU by thread, summed over the Centrals of each drain: what one Central's drain
 * spends and what a second Central adds (the same backlog, the time of a second process's own
 * compilers and start). Empty for runs without the figure.
 */
export function drainThreads(drains: DrainResult[]): string[] {
  const read = drains.filter((d) => d.centralThreads?.some((t) => t));
  if (read.length === 0) return [];
  const lines = [
    "**Central's threads in the drains** (CPU seconds by thread name, summed over the drain's Centrals, from their start until the backlog was drained; `main` is each Central's JavaScript thread; kernel: the part of all of them spent in the kernel):",
    "",
    "| chargers | Centrals | CPU-s | µs a message | by thread | kernel |",
    "| ---: | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const d of read) {
    const byThread: Record<string, number> = {};
    let system = 0;
    for (const t of d.centralThreads ?? []) {
      if (!t) continue;
      for (const [name, s] of Object.entries(t.byThread)) byThread[name] = (byThread[name] ?? 0) + s;
      system += t.system;
    }
    const total = Object.values(byThread).reduce((a, b) => a + b, 0);
    const shown = Object.entries(byThread)
      .filter(([, s]) => s >= THREAD_SHOWN_FROM_S)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${s.toFixed(2)}`)
      .join(" · ");
    lines.push(`| ${int(d.chargers)} | ${d.centrals} | ${total.toFixed(2)} | ${((total / d.backlog) * 1e6).toFixed(1)} | ${shown} | ${system.toFixed(2)} |`);
  }
  return lines;
}

/** The window a soak's goal is judged over (ten minutes); a longer soak is also read by such windows. */
const SOAK_WINDOW_S = 600;

/**
 * A soak longer than SOAK_WINDOW_S, window by window: whether what rises in the first window
 * goes on rising or settles, and in what (the heap, or the RSS outside its committed space).
 */
function soakByWindows(soaks: SteadyResult[]): string[] {
  const lines = [
    `**Soak by ${SOAK_WINDOW_S / 60}-minute windows** (the same samples as the soak's row, cut by time from the window's start; outside the heap: the RSS less the heap's committed space, both read in the same 5-s sample):`,
    "",
    "| chargers | minutes | RSS mean MiB | lowest – highest MiB | RSS by thirds MiB | RSS trend MiB/min | heap in use mean MiB | committed heap mean MiB | outside the heap mean MiB | outside trend MiB/min |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const s of soaks) {
    const rss = firstCentral(s.rssSeries);
    const heap = firstCentral(s.heapSeries);
    const committed = firstCentral(s.heapTotalSeries);
    const outside = differenceOf(rss, committed);
    const within = (series: Series, from: number) => series.filter(([t]) => t >= from && t < from + SOAK_WINDOW_S);
    for (const w of windowsOf(rss, SOAK_WINDOW_S)) {
      const figures = w.samples.map(([, x]) => x);
      const out = within(outside, w.from);
      lines.push(
        `| ${int(s.chargers)} | ${w.from / 60}–${(w.from + SOAK_WINDOW_S) / 60} | ${int(meanOf(w.samples))} | ${int(Math.min(...figures))} – ${int(Math.max(...figures))} | ${byThirds(w.samples)} | ${trendPerMinute(w.samples) ?? "–"} | ${int(meanOf(within(heap, w.from)))} | ${int(meanOf(within(committed, w.from)))} | ${int(meanOf(out))} | ${trendPerMinute(out) ?? "–"} |`,
      );
    }
  }
  return lines;
}

/** A histogram's window as "p50 / p99" (ms), or "–" without the figure. */
const p50p99 = (d: DelaySummary | undefined) => (d ? `${int(d.p50)} / ${int(d.p99)}` : "–");

/** How often Central's event loop was held up in the window: "count, longest", or "–" without the figure. */
function loopPauses(s: SteadyResult): string {
  const p = s.loopPauses;
  return p.longestMs === null ? "–" : `${p.over}, ${int(p.longestMs)}`;
}

/** The MeterValues → API figures, saying how many readings the API never showed in time. */
function ocppLatency(l: OcppResult["latencyMs"]): string {
  if (!l) return "–";
  const seen = l.count ?? 0;
  const figures = seen ? `${int(l.p50)} / ${int(l.p99)}` : "none shown";
  return l.unseen ? `${figures} (${int(l.unseen)} of ${int(seen + l.unseen)} not shown within 30 s)` : figures;
}

export function renderResults(run: BenchRun): string {
  const m = run.machine;
  const c = run.ceiling;
  const lines: string[] = [];
  lines.push(
    `Run of ${m.date.slice(0, 16).replace("T", " ")} UTC on ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; Bun ${m.bun}, Kafka ${m.kafka}, PostgreSQL ${m.postgresql}; load average at start ${m.loadAverageAtStart.join(" ")}.`,
  );
  lines.push(
    `Settings: ${Object.entries(run.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}.`,
  );
  lines.push("");
  lines.push(
    `**Ceiling** (raw @platformatic/kafka, ${c.messageBytes}-byte messages, ${c.partitions} partitions, ${int(c.messages)} messages): ` +
      `produce → consume at once **${int(c.pipelinePerS)} msg/s** (producer ${c.cpu.producer} cores, consumer ${c.cpu.consumer}, Kafka ${c.cpu.kafka}); ` +
      `a consumer alone draining the backlog ${int(c.drainPerS)} msg/s (${c.cpu.drainConsumer} cores).`,
  );
  lines.push("");
  lines.push(
    "| chargers | Centrals | offered ev/s | applied ev/s | applied telemetry/s | p50 ms | p95 ms | p99 ms | in Central p50 / p99 ms | loop pauses: 5-s reads ≥ 250 ms, longest ms | warm-up s | lag start → end | keeps up | Central CPU (cores) | peak RSS MiB | KiB / charger | Central / ceiling | CPU: Kafka / PG / API / load / machine |",
  );
  lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | --- |");
  for (const s of run.steady) {
    const l = s.latencyMs;
    lines.push(
      `| ${int(s.chargers)} | ${s.centrals} | ${int(s.offeredPerS)} | ${int(s.appliedPerS)} | ${int(s.appliedTelemetryPerS)} | ${int(l?.p50)} | ${int(l?.p95)} | ${int(l?.p99)} | ${p50p99(s.centralDelayMs)} | ${loopPauses(s)} | ${s.warmupS === undefined ? "" : `${s.warmupS}${s.caughtUpBeforeWindow ? "" : " (not caught up)"}`} | ${int(s.lagStart)} → ${int(s.lagEnd)} | ${s.keepsUp ? "yes" : "**no**"} | ${s.cpu.central} | ${s.centralPeakRssMiB.join(" + ")} | ${s.memoryPerChargerKiB} | ${pct(s.appliedPerS / c.pipelinePerS)} | ${s.cpu.kafka} / ${s.cpu.postgres} / ${s.cpu.api} / ${s.cpu.load} / ${pct(s.cpu.machineBusy)} |`,
    );
  }
  for (const s of run.skipped) lines.push(`| ${int(s.chargers)} | ${s.centrals} | not run: ${s.reason} ||||||||||||||`);
  if (run.steady.some((s) => s.batchPhasesMs?.transaction)) {
    lines.push("");
    lines.push(
      "**Where a batch's time goes** (Central's `evnet_central_batch_phase_seconds` over the window, all Centrals; p50 / p99 ms of the batches: _waiting_ from the oldest message's timestamp at the broker to Central taking the batch up, _opening_ its envelopes opened and validated, _turn_ waiting for a transaction shared with other partitions' batches, _transaction_ its begin to its commit):",
    );
    lines.push("");
    lines.push("| chargers | Centrals | batches | waiting | opening | turn | transaction |");
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const s of run.steady) {
      const p = s.batchPhasesMs ?? {};
      lines.push(
        `| ${int(s.chargers)} | ${s.centrals} | ${int(p.waiting?.count)} | ${p50p99(p.waiting)} | ${p50p99(p.opening)} | ${p50p99(p.turn)} | ${p50p99(p.transaction)} |`,
      );
    }
  }
  if (run.steady.some((s) => s.statements?.length)) {
    lines.push("");
    lines.push(
      `**Where PostgreSQL's time goes** (its \`pg_stat_statements\` for the step's database over the window: the ${TOP_STATEMENTS} statements that took most of its time executing them, parsing and planning not counted; ms/s: milliseconds of PostgreSQL's time a second, 1,000 being one core):`,
    );
    lines.push("");
    lines.push("| chargers | Centrals | statement | calls/s | ms/s | µs/call | rows/call |");
    lines.push("| ---: | ---: | --- | ---: | ---: | ---: | ---: |");
    for (const s of run.steady)
      for (const st of s.statements ?? [])
        lines.push(
          `| ${int(s.chargers)} | ${s.centrals} | \`${st.statement.replace(/[`|]/g, (c) => (c === "|" ? "\\|" : "'"))}\` | ${st.callsPerS} | ${st.msPerS} | ${int(st.usPerCall)} | ${st.rowsPerCall} |`,
        );
  }
  if (run.drain.length) {
    lines.push("");
    lines.push(
      "**Capacity** (a backlog of telemetry on the topic, then Central started; rate between 10% and 90% of the backlog; once settled: from the first read after the group's last join, or 10% if later, to 90%, and where in the backlog that began; group joins: each Central's, from its start to the drain's end, one more for each rebalance after the group formed):",
    );
    lines.push("");
    lines.push(
      "| chargers | Centrals | backlog | applied msg/s | vs pipe ceiling | vs drain ceiling | once settled: msg/s (from) | Central CPU (cores) | PG CPU | peak RSS MiB | group joins |",
    );
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const d of run.drain)
      lines.push(
        `| ${int(d.chargers)} | ${d.centrals} | ${int(d.backlog)} | ${int(d.perSecond)} | ${pct(d.perSecond / c.pipelinePerS)} | ${pct(d.perSecond / c.drainPerS)} | ${d.settledPerSecond === undefined ? "not before 90%" : `${int(d.settledPerSecond)} (${pct(d.settledFromShare ?? 0)})`} | ${d.cpu.central} | ${d.cpu.postgres} | ${d.centralPeakRssMiB.join(" + ")} | ${(d.centralGroupJoins ?? []).map((j) => j ?? "–").join(" + ")} |`,
      );
    const threads = drainThreads(run.drain);
    if (threads.length) lines.push("", ...threads);
  }
  if (run.soak?.length) {
    lines.push("");
    lines.push(
      "**Soak** (one Central, N chargers at 1 Hz for the whole window; Central's resident memory, its JavaScript heap in use and the space the engine holds for that heap (committed) sampled every 5 s, and its event loop's longest delay in each 5 s; by thirds: the mean of each third of the window; trend: the least-squares slope over the window; KiB / charger: growth from just after Central started to the end, divided by N):",
    );
    lines.push("");
    lines.push(
      "| chargers | minutes | RSS at start MiB | RSS at end MiB | lowest – highest MiB | RSS by thirds MiB | RSS trend MiB/min | heap by thirds MiB | heap trend MiB/min | committed heap by thirds MiB | committed trend MiB/min | loop pauses: 5-s reads ≥ 250 ms, longest ms | KiB / charger | p50 / p99 ms | lag start → end | keeps up | Central CPU |",
    );
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |");
    for (const s of run.soak) {
      const rss = firstCentral(s.rssSeries);
      const heap = firstCentral(s.heapSeries);
      const committed = firstCentral(s.heapTotalSeries);
      const figures = rss.map(([, x]) => x);
      const [start, end] = [figures[0]!, figures.at(-1)!];
      lines.push(
        `| ${int(s.chargers)} | ${Math.round(s.seconds / 60)} | ${int(start)} | ${int(end)} | ${int(Math.min(...figures))} – ${int(Math.max(...figures))} | ${byThirds(rss)} | ${trendPerMinute(rss) ?? "–"} | ${byThirds(heap)} | ${trendPerMinute(heap) ?? "–"} | ${byThirds(committed)} | ${trendPerMinute(committed) ?? "–"} | ${loopPauses(s)} | ${s.memoryPerChargerKiB} | ${int(s.latencyMs?.p50)} / ${int(s.latencyMs?.p99)} | ${int(s.lagStart)} → ${int(s.lagEnd)} | ${s.keepsUp ? "yes" : "**no**"} | ${s.cpu.central} |`,
      );
    }
    const long = run.soak.filter((s) => s.seconds > SOAK_WINDOW_S);
    if (long.length) lines.push("", ...soakByWindows(long));
  }
  if (run.ocpp.length) {
    const plan = run.ocpp[0]!.plan;
    lines.push("");
    lines.push(
      `**OCPP gateway** (N OCPP 1.6J chargers as WebSocket clients of one \`evnet ocpp\`, each charging: MeterValues every 10 s, Heartbeat every 60 s. _Connect_: from a cold gateway, first attempts spread over ${plan.spreadS} s, at most ${plan.concurrency} handshakes in flight, a refusal retried after ${plan.backoffS} s doubling to ${plan.maxBackoffS} s (±50%), each handshake with its password check and a key from the API, then BootNotification; time per charger from its first attempt. _Again_: all dropped at once and reconnected):`,
    );
    lines.push("");
    lines.push(
      "| OCPP chargers | connected | connect all (s) | per charger p50 / p99 ms | attempts | again: all (s) | again p50 / p99 ms | MeterValues/s | MeterValues → API p50 / p99 ms | gateway CPU (cores) | gateway RSS MiB | KiB / connection | CPU: Central / API / PG | load average start → end |",
    );
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
    for (const o of run.ocpp) {
      const c = o.connect;
      const r = o.reconnect;
      lines.push(
        `| ${int(o.chargers)} | ${int(c.connected)} | ${c.seconds} | ${int(c.perChargerMs?.p50)} / ${int(c.perChargerMs?.p99)} | ${int(c.attempts)} | ${r?.seconds ?? "–"} | ${int(r?.perChargerMs?.p50)} / ${int(r?.perChargerMs?.p99)} | ${int(o.meterValuesPerS)} | ${ocppLatency(o.latencyMs)} | ${o.gatewayCpu} | ${o.gatewayRssMiB} | ${o.gatewayKiBPerConnection} | ${o.centralCpu} / ${o.apiCpu} / ${o.postgresCpu} | ${o.loadAtStart[0]} → ${o.loadAtEnd[0]} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Replaces the generated block of the document (or starts the document with it). */
export function writeReport(run: BenchRun, markdownFile: string, jsonFile: string): string {
  const table = renderResults(run);
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify(run, null, 2)}\n`);
  const block = `${START}\n${table}\n${END}`;
  const doc = existsSync(markdownFile) ? readFileSync(markdownFile, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const updated =
    doc.includes(START) && doc.includes(END) ? doc.slice(0, doc.indexOf(START)) + block + doc.slice(doc.indexOf(END) + END.length) : `${doc}\n${block}\n`;
  writeFileSync(markdownFile, updated);
  return table;
}
