/**
 * One measurement: N chargers against one or two Centrals (each its own OS process, as
 * `evnet central` runs in production), the API as a process for the latency sampler, and the
 * load generator as a process, on a fresh database and a fresh set of topics.
 *
 *  - steady: the chargers send at 1 Hz for a warm-up and then a measured window; we read
 *    what Central applied (its applied-offset table), the lag of its consumer group, the CPU
 *    of every process involved and Central's memory, and take the generator's latency report;
 *  - drain: a backlog of telemetry is put on the topic first, then Central starts and we time
 *    how fast it works through it: its capacity, whatever the offered rate.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type postgres from "postgres";
import { KafkaBus } from "../src/bus/kafka.ts";
import { allTopics, type Topics, topicsFor } from "../src/bus/topics.ts";
import { parseMasterKey, randomHex } from "../src/crypto/keys.ts";
import { BATCH_PHASES, type BatchPhase } from "../src/roles/central/metrics.ts";
import { groupName } from "../src/roles/group-names.ts";
import { controlKeyEnv } from "../tests/support/control.ts";
import { freePort } from "../tests/support/network-processes.ts";
import { type RoleProcess, spawnRole } from "../tests/support/processes.ts";
import { type DelaySummary, delayBetween, scrapeGroupJoins, scrapeHistograms, scrapeProcessFigures } from "./central-delay.ts";
import { createBenchDatabase, seedFleet } from "./fleet.ts";
import type { LoadConfig, SimulationSettings } from "./load.ts";
import { readStatements, readStatementTexts, type StatementShare, type StatementSnapshot, statementsBetween } from "./pg-statements.ts";
import { benchSql } from "./postgres.ts";
import { CpuMeter, machineCpuSeconds, memoryMiB, niceOf, pidsNamed, type ThreadCpu, threadCpuSeconds } from "./proc.ts";
import {
  CAUGHT_UP_READS,
  caughtUpInARow,
  DRAIN_FROM,
  DRAIN_TO,
  type DrainSample,
  loopPausesOf,
  type PerCentral,
  type Summary,
  settledDrainRate,
} from "./stats.ts";

export interface BenchEnv extends SimulationSettings {
  databaseUrl: string;
  brokers: string[];
  kafkaPid?: number;
  workDir: string;
  /** Names this run's topics (`bench-<runId>-...`), deleted together at the end. */
  runId: string;
  partitions: number;
  drainSeconds: number;
  /** Longest warm-up, waiting for Central to catch up with the start before the window opens (s). */
  warmupMaxS: number;
  /** Extra environment for the Central processes (A/B switches while optimising). */
  centralEnv: Record<string, string>;
  /** Another evnet entry point to run Central from (a copy being optimised), instead of src/main.ts. */
  centralMain?: string;
  /** Where Central writes a CPU profile (Bun's --cpu-prof, markdown too) when it stops. */
  profileDir?: string;
  /**
   * The load generator's niceness (`nice -n`; negative: it goes before the processes measured
   * when both want a core). It plays chargers that have hardware of their own: starved by
   * the system it loads, it offered less than it says, seconds late.
   */
  loadNice?: number;
  /**
   * The Centrals' niceness (`nice -n`, every thread of theirs). Unset: that of the rest (0). An
   * operator who shares a host can give Central a core first the same way (twenty-fourth round).
   */
  centralNice?: number;
}

export interface CpuShare {
  /** Cores used on average over the window (1.0 = one core). */
  central: number;
  kafka: number;
  postgres: number;
  api: number;
  load: number;
  /** The whole machine, busy / all cores (0..1). */
  machineBusy: number;
}

export interface SteadyResult {
  kind: "steady";
  chargers: number;
  centrals: number;
  seconds: number;
  offeredPerS: number;
  offeredTelemetryPerS: number;
  appliedPerS: number;
  appliedTelemetryPerS: number;
  latencyMs?: Summary & { unseen: number; sessions: number };
  /** Central's own share: CP events from the broker to their batch's commit (its histogram; see central-delay.ts). */
  centralDelayMs?: DelaySummary;
  /** Where the window's batches spent their time, phase by phase (Central's histogram; see central-delay.ts). */
  batchPhasesMs?: Partial<Record<BatchPhase, DelaySummary>>;
  /** Seconds from the load's start to the window's: the warm-up, and as long as Central took to catch up after it. */
  warmupS: number;
  /** Whether Central caught up before the window opened (else BENCH_WARMUP_MAX ended the warm-up). */
  caughtUpBeforeWindow: boolean;
  lagStart: number;
  lagEnd: number;
  lagSeries: [number, number][];
  keepsUp: boolean;
  cpu: CpuShare;
  centralPeakRssMiB: number[];
  centralRssMiB: number[];
  centralBaselineRssMiB: number[];
  /** Central's RSS (MiB, per instance) every 5 s of the window, from its start: [seconds, MiB[]]. */
  rssSeries: [number, number[]][];
  /** Central's JavaScript heap in use (MiB, per instance; null where it did not answer), at the RSS's samples but the last. */
  heapSeries: PerCentral;
  /** The space the engine held for that heap (MiB, per instance; null where it did not answer), at the same reads. */
  heapTotalSeries: PerCentral;
  /** Central's event loop: its longest delay in each 5 s before those samples (ms, per instance; null where it did not answer). */
  loopLagSeries: PerCentral;
  /** Of those, how many reached LOOP_PAUSE_MS, and the longest (ms), over every Central. */
  loopPauses: { over: number; longestMs: number | null };
  memoryPerChargerKiB: number;
  counts: Record<string, unknown>;
  publishDelayMs?: Summary;
  centralWarnings: string[];
  tables: Record<string, unknown>[];
  /** The statements that took most of PostgreSQL's time over the window (pg-statements.ts); absent where the server keeps no such counters. */
  statements?: StatementShare[];
}

export interface DrainResult {
  kind: "drain";
  chargers: number;
  centrals: number;
  backlog: number;
  perSecond: number;
  /**
   * The rate once the group settled: from the read after its last join (or 10% of the backlog,
   * if later) to 90% (stats.ts `settledDrainRate`); absent when it settled only after 90%.
   */
  settledPerSecond?: number;
  /** Where that measure began, as a share of the backlog. */
  settledFromShare?: number;
  seconds: number;
  cpu: CpuShare;
  centralPeakRssMiB: number[];
  /**
   * Each Central's threads from its start until the backlog was drained (proc.ts
   * `threadCpuSeconds`): where a drain's CPU went, and what a second Central adds; null where not read.
   */
  centralThreads?: (ThreadCpu | null)[];
  /** Each Central's consumer group joins during the drain (a rebalance storm shows here); null where not read. */
  centralGroupJoins?: (number | null)[];
  centralWarnings: string[];
}

const OPERATOR_TOKEN = "bench-operator-token-0123456789";
const SERVICE_TOKEN = "bench-service-token-0123456789";
const LOAD_SCRIPT = new URL("./load.ts", import.meta.url).pathname;
const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

class Stage {
  readonly roles: RoleProcess[] = [];
  readonly topics: Topics;
  readonly prefix: string;
  readonly masterKeyHex = randomHex(32);
  private admin: KafkaBus;
  private sql?: postgres.Sql;
  database?: Awaited<ReturnType<typeof createBenchDatabase>>;
  /** The chargers and their keys, for the load generator (removed with the step). */
  private chargersFile?: string;

  constructor(
    private env: BenchEnv,
    readonly chargers: number,
    readonly centrals: number,
    kind: string,
  ) {
    this.prefix = `bench-${env.runId}-${kind}-${chargers}-${centrals}`;
    this.topics = topicsFor(this.prefix);
    this.admin = new KafkaBus({ brokers: env.brokers, clientId: "bench-run", partitions: env.partitions });
  }

  get group(): string {
    return groupName(this.prefix, "central");
  }

  async prepare(heartbeatS: number, minAgeS = 0): Promise<string> {
    this.database = await createBenchDatabase(this.env.databaseUrl);
    this.sql = benchSql(this.database.url);
    const fleet = await seedFleet(this.database.url, parseMasterKey(this.masterKeyHex), {
      count: this.chargers,
      meanSessionS: this.env.meanSessionS,
      powerKw: this.env.powerKw,
      heartbeatS,
      minAgeS,
    });
    mkdirSync(this.env.workDir, { recursive: true });
    const file = (this.chargersFile = join(this.env.workDir, `${this.prefix}-chargers.json`));
    writeFileSync(file, JSON.stringify(fleet));
    await this.admin.ensureTopics(allTopics(this.topics));
    return file;
  }

  private busEnv(): Record<string, string> {
    return { KAFKA_BROKERS: this.env.brokers.join(","), EVNET_TOPIC_PREFIX: this.prefix, KAFKA_TOPIC_PARTITIONS: String(this.env.partitions) };
  }

  async startApi(): Promise<string> {
    const api = spawnRole("api", ["api"], {
      ...this.busEnv(),
      DATABASE_URL: this.database!.url,
      API_PORT: "0",
      EVNET_MASTER_KEY: this.masterKeyHex,
      EVNET_OPERATOR_TOKEN: OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
      ...controlKeyEnv(),
    });
    this.roles.push(api);
    const line = await api.waitForLine(/listening/, 60_000);
    return /url=(\S+)/.exec(line)![1]!.replace(/\/$/, "");
  }

  /** Where each Central's /metrics answers. */
  readonly metricsUrls: string[] = [];

  async startCentrals(): Promise<RoleProcess[]> {
    const ports = await Promise.all(Array.from({ length: this.centrals }, () => freePort()));
    this.metricsUrls.push(...ports.map((p) => `http://127.0.0.1:${p}`));
    const started = Array.from({ length: this.centrals }, (_, k) =>
      spawnRole(
        `central-${k + 1}`,
        ["central", "--no-menu"],
        {
          ...this.busEnv(),
          ...this.env.centralEnv,
          DATABASE_URL: this.database!.url,
          EVNET_MASTER_KEY: this.masterKeyHex,
          CENTRAL_INSTANCE_ID: `central-${k + 1}`,
          CENTRAL_METRICS_PORT: String(ports[k]),
          MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: String(this.env.heartbeatS),
          ...controlKeyEnv(),
        },
        { command: [...niceness(this.env.centralNice), process.execPath, ...this.profileFlags(k + 1), this.env.centralMain ?? MAIN] },
      ),
    );
    this.roles.push(...started);
    await Promise.all(started.map((c) => c.waitForLine(/central ready/, 60_000)));
    for (const c of started) sayIfNotNice(c.name, c.proc.pid, this.env.centralNice);
    return started;
  }

  private profileFlags(instance: number | string): string[] {
    const dir = this.env.profileDir;
    const name = typeof instance === "number" ? `central-${instance}` : instance;
    return dir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${this.prefix}-${name}.cpuprofile`] : [];
  }

  startLoad(config: LoadConfig): RoleProcess {
    const file = join(this.env.workDir, `${this.prefix}-load-${config.mode}.json`);
    writeFileSync(file, JSON.stringify(config));
    const load = spawnRole(
      "load",
      [],
      { EVNET_LOG_LEVEL: "warn" },
      { command: [...niceness(this.env.loadNice), process.execPath, ...this.profileFlags(`load-${config.mode}`), LOAD_SCRIPT, file] },
    );
    this.roles.push(load);
    return load;
  }

  loadConfig(chargersFile: string, apiUrl: string, mode: LoadConfig["mode"]): LoadConfig {
    const e = this.env;
    return {
      brokers: e.brokers,
      topicPrefix: this.prefix,
      apiUrl,
      chargersFile,
      mode,
      warmupS: e.warmupS,
      seconds: e.seconds,
      meanSessionS: e.meanSessionS,
      idleS: e.idleS,
      powerKw: e.powerKw,
      heartbeatS: e.heartbeatS,
      latencySample: e.latencySample,
      pollMinMs: e.pollMinMs,
      prefillSeconds: e.drainSeconds,
    };
  }

  /** Messages of the CP events topic Central has applied (its applied-offset table). */
  async applied(): Promise<number> {
    const [row] = await this
      .sql!`select coalesce(sum(next_offset), 0)::text as n from bus_offsets where group_id = ${this.group} and topic = ${this.topics.cpEvents}`;
    return Number(row?.n ?? 0);
  }

  /** The step database's statement counters now, without their texts (undefined: the server keeps none). */
  statements(): Promise<StatementSnapshot | undefined> {
    return readStatements(this.env.databaseUrl, this.database!.name);
  }

  /** The texts of the step database's statements: read once the load is over (pg-statements.ts). */
  statementTexts(): Promise<Map<string, string> | undefined> {
    return readStatementTexts(this.env.databaseUrl, this.database!.name);
  }

  /** How PostgreSQL wrote the hot tables (HOT updates avoid index writes; dead rows need vacuum). */
  async tableStats(): Promise<Record<string, unknown>[]> {
    return [
      ...(await this
        .sql!`select relname as table, n_tup_ins as inserted, n_tup_upd as updated, n_tup_hot_upd as hot_updated, n_dead_tup as dead, autovacuum_count as autovacuums
                                 from pg_stat_user_tables where n_tup_upd + n_tup_ins > 1000 order by n_tup_upd + n_tup_ins desc`),
    ];
  }

  /**
   * Waits the warm-up, then until Central caught up with the start (the lag of the CP events and
   * the drivers' requests under half a second of readings, CAUGHT_UP_READS reads in a row a
   * second apart) or BENCH_WARMUP_MAX passed, and opens
   * the load generator's window. Returns how long it took and whether Central caught up.
   */
  async warmUp(load: RoleProcess, chargers: number): Promise<{ seconds: number; caughtUp: boolean }> {
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    await Bun.sleep(this.env.warmupS * 1000);
    sayIfNotNice("the load generator", load.proc.pid, this.env.loadNice);
    const caughtUp = await caughtUpInARow(() => this.unapplied([this.topics.cpEvents, this.topics.driverRequests]), {
      bound: Math.max(1000, chargers / 2),
      reads: CAUGHT_UP_READS,
      everyMs: 1000,
      untilMs: t0 + this.env.warmupMaxS * 1000,
    });
    load.proc.kill("SIGUSR1");
    return { seconds: Math.round(elapsed()), caughtUp };
  }

  async lag(): Promise<number> {
    return this.unapplied([this.topics.cpEvents]);
  }

  /**
   * Messages of `topics` Central has not applied yet: the end offsets minus its applied offsets
   * (its table), or the group's committed ones where those are further. The committed offsets
   * alone stay behind what was applied by the window of readings Central holds back
   * (CENTRAL_READINGS_INTERVAL), which is not a lag.
   */
  private async unapplied(topics: string[]): Promise<number> {
    const [lag, rows] = await Promise.all([
      this.admin.lag(this.group, topics),
      this.sql!<{ topic: string; partition: number; n: string }[]>`select topic, partition, next_offset::text as n from bus_offsets
                                                                    where group_id = ${this.group} and topic in ${this.sql!(topics)}`,
    ]);
    const applied = new Map(rows.map((r) => [`${r.topic}:${r.partition}`, Number(r.n)]));
    return lag.partitions.reduce((sum, p) => sum + Math.max(0, p.end - Math.max(p.committed, applied.get(`${p.topic}:${p.partition}`) ?? 0)), 0);
  }

  cpuMeters(centrals: RoleProcess[], extra: { api?: RoleProcess; load?: RoleProcess }) {
    const kafkaPid = this.env.kafkaPid;
    return {
      central: new CpuMeter(() => centrals.map((c) => c.proc.pid)),
      kafka: new CpuMeter(() => (kafkaPid ? [kafkaPid] : [])),
      postgres: new CpuMeter(() => pidsNamed("postgres")),
      api: new CpuMeter(() => (extra.api ? [extra.api.proc.pid] : [])),
      load: new CpuMeter(() => (extra.load ? [extra.load.proc.pid] : [])),
    };
  }

  async close(): Promise<void> {
    for (const role of [...this.roles].reverse()) {
      if (role.name === "load") role.proc.kill("SIGTERM");
      await role.stop();
      // Each process's output, to look into a figure afterwards.
      writeFileSync(join(this.env.workDir, `${this.prefix}-${role.name}.log`), `${role.lines.join("\n")}\n`);
    }
    await this.admin.close();
    await this.sql?.end();
    await this.database?.drop();
    if (this.chargersFile) rmSync(this.chargersFile, { force: true });
  }
}

function beginAll(meters: Record<string, CpuMeter>): () => CpuShare {
  for (const m of Object.values(meters)) m.begin();
  const machine = machineCpuSeconds();
  return () => {
    const after = machineCpuSeconds();
    const share = Object.fromEntries(Object.entries(meters).map(([k, m]) => [k, round2(m.end())])) as Omit<CpuShare, "machineBusy">;
    return { ...share, machineBusy: round2((after.busy - machine.busy) / Math.max(0.001, after.total - machine.total)) };
  };
}

/** Says so when a process runs at another niceness than the one asked for (below 0 needs root or CAP_SYS_NICE). */
function sayIfNotNice(what: string, pid: number, wanted: number | undefined): void {
  const nice = niceOf(pid);
  if (nice !== undefined && nice !== (wanted ?? 0))
    console.error(`bench: ${what} runs at niceness ${nice}, not ${wanted ?? 0} (below 0 needs root or CAP_SYS_NICE)`);
}

/** The command prefix that starts a process (all its threads) at a niceness; none when unset. */
function niceness(n: number | undefined): string[] {
  return n === undefined || n === 0 ? [] : ["nice", "-n", String(n)];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function warningsOf(centrals: RoleProcess[]): string[] {
  return centrals.flatMap((c) =>
    c.lines
      .filter((l) => /"level":"(warn|error)"|\bWARN\b|\bERROR\b/.test(l))
      .slice(0, 5)
      .map((l) => `${c.name}: ${l.slice(0, 300)}`),
  );
}

/** All Centrals' group joins in one read; null when one of them did not answer. */
function joinsOf(read: (number | undefined)[], centrals: number): number | null {
  let sum = 0;
  for (const j of read) if (j !== undefined) sum += j;
  return read.length === centrals && read.every((j) => j !== undefined) ? sum : null;
}

function waitJson(role: RoleProcess, event: string, timeoutMs: number): Promise<Record<string, any>> {
  return role.waitForLine(new RegExp(`^\\{"event":"${event}"`), timeoutMs).then((line) => JSON.parse(line));
}

/** `kind` names the step's topics, group and logs: a soak must not inherit a steady step's backlog. */
export async function runSteady(env: BenchEnv, chargers: number, centrals: number, kind: "steady" | "soak" = "steady"): Promise<SteadyResult> {
  const stage = new Stage(env, chargers, centrals, kind);
  try {
    const file = await stage.prepare(env.heartbeatS);
    const api = await stage.startApi();
    const apiRole = stage.roles.find((r) => r.name === "api");
    const cs = await stage.startCentrals();
    const baseline = cs.map((c) => memoryMiB(c.proc.pid)?.rss ?? 0);
    const load = stage.startLoad(stage.loadConfig(file, api, "steady"));
    await waitJson(load, "started", 120_000);
    const warmup = await stage.warmUp(load, chargers);
    await waitJson(load, "window_start", 60_000);
    const endCpu = beginAll(stage.cpuMeters(cs, { api: apiRole, load }));
    const t0 = performance.now();
    const applied0 = await stage.applied();
    const histograms0 = await scrapeHistograms(stage.metricsUrls, stage.topics.cpEvents);
    const statements0 = await stage.statements();
    if (!statements0) console.error("bench:   PostgreSQL keeps no statement counters here (pg_stat_statements); the step goes without its statements table");
    const lagStart = await stage.lag();
    const lagSeries: [number, number][] = [[0, lagStart]];
    const rssNow = () => cs.map((c) => Math.round(memoryMiB(c.proc.pid)?.rss ?? 0));
    const rssSeries: [number, number[]][] = [[0, rssNow()]];
    const heapSeries: PerCentral = [];
    const heapTotalSeries: PerCentral = [];
    const loopLagSeries: PerCentral = [];
    const processAt = (at: number) =>
      scrapeProcessFigures(stage.metricsUrls).then(
        (figures) => {
          heapSeries.push([at, figures.map((f) => f.heapUsedMiB)]);
          heapTotalSeries.push([at, figures.map((f) => f.heapTotalMiB)]);
          // the first read covers Central's life before the window: not a figure of the window
          if (at > 0) loopLagSeries.push([at, figures.map((f) => f.loopLagMaxMs)]);
        },
        () => {},
      );
    processAt(0);
    const sampling = setInterval(() => {
      const at = Math.round((performance.now() - t0) / 1000);
      rssSeries.push([at, rssNow()]);
      processAt(at);
      stage.lag().then(
        (l) => lagSeries.push([at, l]),
        () => {},
      );
    }, 5000);
    await waitJson(load, "window_end", (env.seconds + 60) * 1000);
    clearInterval(sampling);
    const cpu = endCpu();
    const applied1 = await stage.applied();
    const histograms1 = await scrapeHistograms(stage.metricsUrls, stage.topics.cpEvents);
    const statements1 = await stage.statements();
    const t1 = performance.now();
    const lagEnd = await stage.lag();
    lagSeries.push([Math.round((t1 - t0) / 1000), lagEnd]);
    rssSeries.push([Math.round((t1 - t0) / 1000), rssNow()]);
    const memory = cs.map((c) => memoryMiB(c.proc.pid) ?? { rss: 0, peak: 0 });
    const tables = await stage.tableStats();
    const report = await waitJson(load, "report", 60_000);
    const statementTexts = statements1 && (await stage.statementTexts());
    const counts = report.counts as Record<string, number>;
    const seconds = (report.windowEnd - report.windowStart) / 1000;
    const offeredEvents = counts.telemetry! + counts.heartbeats! + counts.supplyStarted! + counts.supplyEnded!;
    const appliedPerS = (applied1 - applied0) / ((t1 - t0) / 1000);
    const offeredPerS = offeredEvents / seconds;
    const telemetryShare = offeredEvents ? counts.telemetry! / offeredEvents : 0;
    const rssGrowth = memory.reduce((sum, m, i) => sum + (m.rss - baseline[i]!), 0);
    return {
      kind: "steady",
      chargers,
      centrals,
      seconds: round2(seconds),
      offeredPerS: Math.round(offeredPerS),
      offeredTelemetryPerS: Math.round(counts.telemetry! / seconds),
      appliedPerS: Math.round(appliedPerS),
      appliedTelemetryPerS: Math.round(appliedPerS * telemetryShare),
      latencyMs: report.latencyMs,
      centralDelayMs: delayBetween(histograms0.delay, histograms1.delay),
      batchPhasesMs: Object.fromEntries(BATCH_PHASES.map((p) => [p, delayBetween(histograms0.phases.get(p), histograms1.phases.get(p))])),
      warmupS: warmup.seconds,
      caughtUpBeforeWindow: warmup.caughtUp,
      lagStart,
      lagEnd,
      lagSeries,
      keepsUp: lagEnd <= Math.max(2000, offeredPerS * 2) && appliedPerS >= offeredPerS * 0.95,
      cpu,
      centralPeakRssMiB: memory.map((m) => Math.round(m.peak)),
      centralRssMiB: memory.map((m) => Math.round(m.rss)),
      centralBaselineRssMiB: baseline.map(Math.round),
      rssSeries,
      heapSeries: heapSeries.sort(([a], [b]) => a - b),
      heapTotalSeries: heapTotalSeries.sort(([a], [b]) => a - b),
      loopLagSeries: loopLagSeries.sort(([a], [b]) => a - b),
      loopPauses: loopPausesOf(loopLagSeries),
      memoryPerChargerKiB: round2((rssGrowth * 1024) / chargers),
      counts: report.counts,
      publishDelayMs: report.publishDelayMs,
      centralWarnings: warningsOf(cs),
      tables,
      statements: statements0 && statements1 ? statementsBetween(statements0, statements1, (t1 - t0) / 1000, undefined, statementTexts) : undefined,
    };
  } finally {
    await stage.close();
  }
}

export async function runDrain(env: BenchEnv, chargers: number, centrals: number): Promise<DrainResult> {
  const stage = new Stage(env, chargers, centrals, "drain");
  try {
    // Long heartbeat intervals: the backlog carries none, and no charger may look silent meanwhile.
    const file = await stage.prepare(3600, env.drainSeconds + 60);
    const prefill = stage.startLoad(stage.loadConfig(file, "http://unused", "prefill"));
    const filled = await waitJson(prefill, "prefilled", 600_000);
    await prefill.proc.exited;
    const backlog = Number(filled.count);
    const t0 = performance.now();
    const cs = await stage.startCentrals();
    const endCpu = beginAll(stage.cpuMeters(cs, {}));
    // Each read's group joins too, for the rate once the group settled (a later join rebalances it).
    const samples: DrainSample[] = [];
    for (;;) {
      const joinsRead = scrapeGroupJoins(stage.metricsUrls).catch(() => []);
      const lag = await stage.lag();
      const done = backlog - lag;
      const now = performance.now();
      samples.push({ atMs: now, done, joins: joinsOf(await joinsRead, cs.length) });
      if (lag === 0 || now - t0 > 600_000) break;
      await Bun.sleep(200);
    }
    const threads = cs.map((c) => threadCpuSeconds(c.proc.pid) ?? null);
    const cpu = endCpu();
    const joins = await scrapeGroupJoins(stage.metricsUrls);
    // The rate is taken between 10% and 90% of the backlog: joining the group is not the hot path.
    const at10 = samples.find((x) => x.done >= backlog * DRAIN_FROM);
    const at90 = samples.find((x) => x.done >= backlog * DRAIN_TO);
    const seconds = at10 && at90 ? (at90.atMs - at10.atMs) / 1000 : NaN;
    const settled = settledDrainRate(samples, backlog);
    return {
      kind: "drain",
      chargers,
      centrals,
      backlog,
      perSecond: at10 && at90 ? Math.round((at90.done - at10.done) / seconds) : 0,
      settledPerSecond: settled?.perSecond,
      settledFromShare: settled && round2(settled.fromDone / backlog),
      seconds: round2(seconds),
      cpu,
      centralPeakRssMiB: cs.map((c) => Math.round(memoryMiB(c.proc.pid)?.peak ?? 0)),
      centralThreads: threads,
      centralGroupJoins: joins.map((j) => j ?? null),
      centralWarnings: warningsOf(cs),
    };
  } finally {
    await stage.close();
  }
}
