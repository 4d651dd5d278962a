/**
 * `npm run bench`: how many chargers one Central holds, and how close it gets to the Kafka
 * client's own limit, measured in one run on this machine.
 *
 *   1. the ceiling: the raw client producing and consuming telemetry-sized messages;
 *   2. for each size in BENCH_SIZES, one Central and then two (one consumer group), N chargers
 *      at 1 Hz: rate applied, latency to the API, lag, CPU, memory (stopping a series early
 *      when a size could not keep up);
 *   3. Central's capacity: a backlog drained by one Central, then by two;
 * then prints the table, writes it into docs/benchmarks.md and the raw figures as JSON.
 *
 * Settings (environment; the defaults are the full run, well under 30 minutes):
 *   BENCH_SIZES=1000,5000,10000,20000  BENCH_CENTRALS=1,2  BENCH_SECONDS=60  BENCH_WARMUP=20
 *   BENCH_WARMUP_MAX=120 (after the warm-up the window opens once Central caught up with the start:
 *   its lag under half a second of readings; at the latest this many seconds after the load began)
 *   BENCH_DRAIN=10000 (sizes of the capacity test; empty: none)  BENCH_DRAIN_SECONDS=120
 *   BENCH_SOAK=10000 (chargers of the memory soak, one Central; empty: none)  BENCH_SOAK_MINUTES=10
 *   (a longer soak, such as 30, is also reported by 10-minute windows: whether its memory settles)
 *   BENCH_OCPP_SIZES=1000,10000 (OCPP chargers through one gateway, bench/ocpp.ts; empty: none)
 *   BENCH_OCPP_SECONDS=60  BENCH_OCPP_CONNECT_SPREAD=30 (s over which chargers make their first attempt)
 *   BENCH_OCPP_CONNECT_CONCURRENCY=1000 (the load generator's handshakes in flight)
 *   BENCH_PARTITIONS=12  BENCH_SESSION_MINUTES=10  BENCH_IDLE_SECONDS=5  BENCH_LATENCY_SAMPLE=20
 *   BENCH_POLL_MS=20  BENCH_CEILING_MESSAGES=1000000
 *   BENCH_OUT=docs/benchmarks.md  BENCH_JSON=docs/benchmarks.json
 *   BENCH_CENTRAL_<NAME>=value passes <NAME>=value to the Central processes (A/B comparisons);
 *   BENCH_MAIN=/path/to/src/main.ts runs Central from another copy of evnet;
 *   BENCH_DATABASE_SOCKET=1: Central, the API and the bench reach PostgreSQL through its Unix-domain socket (default 0: TCP);
 *   BENCH_PROFILE=<dir> makes Central and the load generator write CPU profiles there when they stop (Bun --cpu-prof, .md too).
 * A quick run: BENCH_SIZES=1000 BENCH_CENTRALS=1 BENCH_SECONDS=20 BENCH_DRAIN= npm run bench
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine } from "./machine.ts";
import { measureCeiling } from "./measure-ceiling.ts";
import { runOcpp } from "./ocpp.ts";
import { pidFromFile } from "./proc.ts";
import { type BenchRun, renderResults, writeReport } from "./report.ts";
import { firstCentral, LOOP_PAUSE_MS, trendPerMinute } from "./stats.ts";
import { type BenchEnv, runDrain, runSteady } from "./step.ts";

const REPO = new URL("..", import.meta.url).pathname;
/** The load generator's send delay (p99) above which a step's figures are its, not Central's. */
const LATE_SENDS_MS = 1000;

/** This script is the benchmark's one configuration point, so it reads the environment itself. */
const setting = (name: string, fallback: string): string => process.env[name] ?? fallback;
/** A setting that must be a positive number (`whole`: a whole one); a clear error otherwise. */
function positive(name: string, fallback: string, whole = false): number {
  const text = setting(name, fallback);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value)))
    throw new Error(`${name} must be a positive ${whole ? "whole number" : "number"} (got "${text}")`);
  return value;
}
/** A comma-separated list of positive whole numbers; empty is allowed (nothing to run). */
function wholeNumbers(name: string, fallback: string): number[] {
  const text = setting(name, fallback);
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const values = parts.map(Number);
  if (values.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`${name} must be a list of positive whole numbers, like 1000,5000 (got "${text}")`);
  return values;
}

/** A niceness from the environment: a whole number from -20 to 19. */
function niceSetting(name: string, fallback: string): number {
  const n = Number(setting(name, fallback));
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`${name} must be a whole number from -20 to 19 (got "${process.env[name]}")`);
  return n;
}

function servicesUp(): { databaseUrl: string; socketDir?: string; brokers: string[] } {
  const result = Bun.spawnSync(["bash", join(REPO, "scripts/services.sh"), "up"], { stdout: "pipe", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error("scripts/services.sh up failed");
  const out = result.stdout.toString();
  const value = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(out)?.[1]?.trim();
  return { databaseUrl: value("DATABASE_URL")!, socketDir: value("DATABASE_SOCKET_DIR"), brokers: value("KAFKA_BROKERS")!.split(",") };
}

function deleteTopics(brokers: string[], pattern: string): void {
  Bun.spawnSync(
    [
      "bash",
      join(REPO, "scripts/services.sh"),
      "kafka-class",
      "org.apache.kafka.tools.TopicCommand",
      "--bootstrap-server",
      brokers[0]!,
      "--delete",
      "--topic",
      pattern,
    ],
    {
      stdout: "ignore",
      stderr: "ignore",
    },
  );
}

async function main(): Promise<void> {
  // Every setting is read (and refused if wrong) before anything starts.
  const settings = {
    partitions: positive("BENCH_PARTITIONS", "12", true),
    warmupS: positive("BENCH_WARMUP", "20"),
    warmupMaxS: positive("BENCH_WARMUP_MAX", "120"),
    seconds: positive("BENCH_SECONDS", "60"),
    meanSessionS: positive("BENCH_SESSION_MINUTES", "10") * 60,
    idleS: positive("BENCH_IDLE_SECONDS", "5"),
    latencySample: positive("BENCH_LATENCY_SAMPLE", "20", true),
    pollMinMs: positive("BENCH_POLL_MS", "20"),
    drainSeconds: positive("BENCH_DRAIN_SECONDS", "120"),
    ceilingMessages: positive("BENCH_CEILING_MESSAGES", "1000000", true),
  };
  const sizes = wholeNumbers("BENCH_SIZES", "1000,5000,10000,20000");
  const centralCounts = wholeNumbers("BENCH_CENTRALS", "1,2");
  const drainSizes = wholeNumbers("BENCH_DRAIN", "10000");
  const ocppSizes = wholeNumbers("BENCH_OCPP_SIZES", "1000,10000");
  const soakSizes = wholeNumbers("BENCH_SOAK", "10000");
  const soakMinutes = positive("BENCH_SOAK_MINUTES", "10");
  const ocppSeconds = positive("BENCH_OCPP_SECONDS", "60");
  const ocppConnect = {
    spreadS: Number(setting("BENCH_OCPP_CONNECT_SPREAD", "30")),
    concurrency: positive("BENCH_OCPP_CONNECT_CONCURRENCY", "1000", true),
    handshakeTimeoutMs: 30_000,
    backoffS: 2,
    maxBackoffS: 32,
    giveUpS: 1800,
  };
  const loadNice = niceSetting("BENCH_LOAD_NICE", "-10");
  const centralNice = niceSetting("BENCH_CENTRALS_NICE", "0");
  const socketSetting = setting("BENCH_DATABASE_SOCKET", "0");
  if (socketSetting !== "0" && socketSetting !== "1") throw new Error(`BENCH_DATABASE_SOCKET must be 0 or 1 (got "${socketSetting}")`);
  if (!(ocppConnect.spreadS >= 0)) throw new Error("BENCH_OCPP_CONNECT_SPREAD must be a number of seconds, 0 or more");
  const services = servicesUp();
  const throughSocket = socketSetting === "1";
  if (throughSocket && !services.socketDir) throw new Error("BENCH_DATABASE_SOCKET=1, but scripts/services.sh gave no DATABASE_SOCKET_DIR");
  const kafkaPid = pidFromFile(join(setting("EVNET_SERVICES_DIR", join(REPO, ".services")), "kafka/kafka.pid"));
  const runId = Date.now().toString(36);
  const centralEnv = Object.fromEntries(
    Object.entries(process.env)
      .filter(([k]) => k.startsWith("BENCH_CENTRAL_"))
      .map(([k, v]) => [k.slice("BENCH_CENTRAL_".length), v!]),
  );
  const env: BenchEnv = {
    databaseUrl: throughSocket ? `${services.databaseUrl}?host=${encodeURIComponent(services.socketDir!)}` : services.databaseUrl,
    brokers: services.brokers,
    kafkaPid,
    workDir: join(REPO, "bench-results", runId),
    runId,
    partitions: settings.partitions,
    warmupS: settings.warmupS,
    seconds: settings.seconds,
    meanSessionS: settings.meanSessionS,
    idleS: settings.idleS,
    powerKw: 22,
    heartbeatS: 5,
    latencySample: settings.latencySample,
    pollMinMs: settings.pollMinMs,
    drainSeconds: settings.drainSeconds,
    warmupMaxS: settings.warmupMaxS,
    centralEnv,
    centralMain: process.env.BENCH_MAIN || undefined,
    profileDir: process.env.BENCH_PROFILE || undefined,
    loadNice,
    centralNice,
  };
  const machine = await describeMachine(services.databaseUrl, kafkaPid);
  const log = (msg: string) => console.error(`bench: ${msg}`);
  log(`run ${runId}: ${machine.cores} cores (${machine.cpuModel}), load average ${machine.loadAverageAtStart.join(" ")}`);

  const run: BenchRun = {
    machine,
    settings: {
      partitions: env.partitions,
      warmupS: env.warmupS,
      seconds: env.seconds,
      meanSessionS: env.meanSessionS,
      idleS: env.idleS,
      heartbeatS: env.heartbeatS,
      latencySample: env.latencySample,
      pollMinMs: env.pollMinMs,
      ...(Object.keys(centralEnv).length ? { centralEnv: JSON.stringify(centralEnv) } : {}),
      ...(env.centralMain ? { centralMain: env.centralMain } : {}),
      ...(loadNice ? { loadNice } : {}),
      ...(centralNice ? { centralNice } : {}),
      ...(throughSocket ? { databaseSocket: true } : {}),
    },
    ceiling: await measureCeiling({
      brokers: env.brokers,
      partitions: env.partitions,
      messages: settings.ceilingMessages,
      keys: Math.max(...sizes, 1000),
      kafkaPid,
      prefix: `bench-${runId}`,
    }),
    steady: [],
    soak: [],
    drain: [],
    ocpp: [],
    skipped: [],
    finishedAt: "",
  };
  log(`ceiling: ${run.ceiling.pipelinePerS} msg/s produce → consume, ${run.ceiling.drainPerS} msg/s drain`);
  try {
    for (const centrals of centralCounts) {
      let behind: number | undefined;
      for (const n of sizes) {
        if (behind !== undefined) {
          run.skipped.push({ chargers: n, centrals, reason: `${behind} chargers could not keep up` });
          continue;
        }
        log(`steady: ${n} chargers, ${centrals} Central(s), ${env.seconds} s`);
        const result = await runSteady(env, n, centrals);
        run.steady.push(result);
        log(
          `  applied ${result.appliedPerS}/s of ${result.offeredPerS}/s offered, p99 ${result.latencyMs?.p99 ?? "?"} ms, window after ${result.warmupS} s${result.caughtUpBeforeWindow ? "" : " (not caught up)"}, lag ${result.lagStart} → ${result.lagEnd}, Central CPU ${result.cpu.central}, event loop held up ≥ ${LOOP_PAUSE_MS} ms in ${result.loopPauses.over} of its 5-s reads (longest ${result.loopPauses.longestMs ?? "?"} ms)`,
        );
        const sends = result.publishDelayMs?.p99;
        if (sends !== undefined && sends > LATE_SENDS_MS)
          log(`  the load generator's sends were late (p99 ${sends} ms): what it counted as offered reached the broker that much later`);
        if (!result.keepsUp) behind = n;
      }
    }
    for (const n of drainSizes)
      for (const centrals of centralCounts) {
        log(`capacity: backlog of ${env.drainSeconds} s of ${n} chargers, ${centrals} Central(s)`);
        const result = await runDrain(env, n, centrals);
        run.drain.push(result);
        const settled = result.settledPerSecond === undefined ? "the group settled only after 90%" : `${result.settledPerSecond} msg/s once the group settled`;
        log(`  ${result.perSecond} msg/s (${settled}), Central CPU ${result.cpu.central}`);
      }
    for (const n of soakSizes) {
      log(`soak: ${n} chargers, 1 Central, ${soakMinutes} min`);
      const result = await runSteady({ ...env, seconds: soakMinutes * 60 }, n, 1, "soak");
      run.soak.push(result);
      const [start, end] = [result.rssSeries[0]?.[1][0], result.rssSeries.at(-1)?.[1][0]];
      const trend = trendPerMinute(firstCentral(result.rssSeries));
      log(
        `  RSS ${start} → ${end} MiB (trend ${trend ?? "?"} MiB/min), p99 ${result.latencyMs?.p99 ?? "?"} ms, window after ${result.warmupS} s${result.caughtUpBeforeWindow ? "" : " (not caught up)"}, lag ${result.lagStart} → ${result.lagEnd}`,
      );
    }
    for (const n of ocppSizes) {
      log(`ocpp: ${n} OCPP chargers through one gateway, ${ocppSeconds} s`);
      const result = await runOcpp(
        {
          databaseUrl: env.databaseUrl,
          brokers: env.brokers,
          runId,
          partitions: env.partitions,
          warmupS: env.warmupS,
          seconds: ocppSeconds,
          latencySample: env.latencySample,
          pollMinMs: env.pollMinMs,
          meterEveryS: 10,
          heartbeatEveryS: 60,
          connect: ocppConnect,
        },
        n,
        log,
      );
      run.ocpp.push(result);
      log(
        `  connected ${result.connect.connected} in ${result.connect.seconds} s (again: ${result.reconnect?.seconds ?? "?"} s), p99 ${result.latencyMs?.p99 ?? "?"} ms, gateway CPU ${result.gatewayCpu}, ${result.gatewayKiBPerConnection} KiB/connection`,
      );
    }
  } finally {
    run.finishedAt = new Date().toISOString();
    mkdirSync(env.workDir, { recursive: true });
    writeFileSync(join(env.workDir, "run.json"), JSON.stringify(run, null, 2));
    deleteTopics(env.brokers, `bench-${runId}.*`);
  }
  const out = setting("BENCH_OUT", join(REPO, "docs/benchmarks.md"));
  const json = setting("BENCH_JSON", join(REPO, "docs/benchmarks.json"));
  writeReport(run, out, json);
  console.log(renderResults(run));
  log(`written: ${out}, ${json} (and ${env.workDir}/run.json)`);
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
process.exit(0);
