/**
 * `bun bench/faults.ts`: a charging network as separate OS processes on the real Kafka and
 * PostgreSQL (scripts/services.sh), drivers charging at every CP one charge after another, and
 * faults injected on a schedule: Centrals killed (SIGKILL) and started again, PostgreSQL crashed
 * and started again (a cluster of the run's own), engines (and their monitors) killed and
 * started again, cars unplugged. When the time is up the faults stop, the network settles, and
 * every session is compared with what its engine metered (tests/support/meter-audit.ts): the
 * table counts sessions, tickets compared, short, long, wrong end, stuck and duplicated ones.
 * Exits 1 when anything does not match.
 *
 * Settings (environment; the defaults take about 5 minutes):
 *   FAULTS_SECONDS=180           how long drivers charge and faults are injected
 *   FAULTS_CPS=5                 charging points, each with a driver of its own
 *   FAULTS_CENTRALS=2            Centrals in the consumer group
 *   FAULTS_CHARGE=4-20           each charge lasts a random number of seconds in this range
 *   FAULTS_UNPLUG_ONE_IN=5       one charge in N ends with the car unplugged instead (0: never)
 *   FAULTS_KILL_CENTRAL_EVERY=20 seconds between kills of a random Central (0: never)
 *   FAULTS_CENTRAL_DOWN=3        seconds a killed Central stays down
 *   FAULTS_RESTART_ENGINE_EVERY=30  seconds between restarts of a random engine (0: never)
 *   FAULTS_WITH_MONITOR=2        1 in N engine restarts restarts its monitor too (as `evnet up` does)
 *   FAULTS_PG_OUTAGE_EVERY=0     seconds between PostgreSQL crashes (0: never; then the shared server is used)
 *   FAULTS_PG_OUTAGE_FOR=10      seconds PostgreSQL stays down
 *   FAULTS_SESSION_TIMEOUT_MS=6000  the Centrals' group session timeout (KAFKA_SESSION_TIMEOUT_MS)
 *   FAULTS_SEED=1                the schedule's random seed (the same seed, the same choices)
 *   FAULTS_ECHO=1                print every role's log lines
 * Harsher: shorter intervals, longer outages, more Centrals, e.g.
 *   FAULTS_KILL_CENTRAL_EVERY=7 FAULTS_CENTRALS=3 FAULTS_RESTART_ENGINE_EVERY=9 FAULTS_PG_OUTAGE_EVERY=40 bun bench/faults.ts
 */
import { join } from "node:path";
import { formatAudit, mismatches } from "../tests/support/meter-audit.ts";
import { type ChargingPointProcesses, jsonLines, TestNetwork } from "../tests/support/network-processes.ts";
import { OwnPostgres } from "../tests/support/own-postgres.ts";
import type { RoleProcess } from "../tests/support/processes.ts";

const REPO = new URL("..", import.meta.url).pathname;

/** This script is its own configuration point: it reads the environment itself. */
function number(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0 (got "${text}")`);
  return value;
}

function range(name: string, fallback: string): [number, number] {
  const text = process.env[name] ?? fallback;
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[1]) <= 0) throw new Error(`${name} must be a range of seconds like 4-20 (got "${text}")`);
  return [Number(m[1]), Number(m[2])];
}

const settings = {
  seconds: number("FAULTS_SECONDS", 180),
  cps: Math.max(1, Math.round(number("FAULTS_CPS", 5))),
  centrals: Math.max(1, Math.round(number("FAULTS_CENTRALS", 2))),
  charge: range("FAULTS_CHARGE", "4-20"),
  unplugOneIn: number("FAULTS_UNPLUG_ONE_IN", 5),
  killCentralEvery: number("FAULTS_KILL_CENTRAL_EVERY", 20),
  centralDown: number("FAULTS_CENTRAL_DOWN", 3),
  restartEngineEvery: number("FAULTS_RESTART_ENGINE_EVERY", 30),
  withMonitor: number("FAULTS_WITH_MONITOR", 2),
  pgOutageEvery: number("FAULTS_PG_OUTAGE_EVERY", 0),
  pgOutageFor: number("FAULTS_PG_OUTAGE_FOR", 10),
  sessionTimeoutMs: number("FAULTS_SESSION_TIMEOUT_MS", 6000),
  seed: number("FAULTS_SEED", 1),
};
if (process.env.FAULTS_ECHO === "1") process.env.EVNET_TEST_ECHO = "1";

/** mulberry32: a small seeded generator, so a run's choices can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(settings.seed);
const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]!;

function servicesUp(): void {
  const result = Bun.spawnSync(["bash", join(REPO, "scripts/services.sh"), "up"], { stdout: "pipe", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error("scripts/services.sh up failed");
  const out = result.stdout.toString();
  const value = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(out)?.[1]?.trim();
  process.env.TEST_DATABASE_URL = value("DATABASE_URL");
  process.env.TEST_KAFKA_BROKERS = value("KAFKA_BROKERS");
}

const log = (text: string) => console.log(`${new Date().toISOString()} faults: ${text}`);

interface Tally {
  charges: number;
  tickets: number;
  refusals: Map<string, number>;
  problems: string[];
  faults: Map<string, number>;
}

async function main(): Promise<number> {
  servicesUp();
  const pg = settings.pgOutageEvery > 0 ? new OwnPostgres() : undefined;
  if (pg) await pg.up();
  const net = new TestNetwork({
    sessionTimeoutMs: settings.sessionTimeoutMs,
    ...(pg ? { database: { url: pg.url, name: "evnet", drop: async () => {} } } : {}),
  });
  const tally: Tally = { charges: 0, tickets: 0, refusals: new Map(), problems: [], faults: new Map() };
  const fault = (kind: string) => tally.faults.set(kind, (tally.faults.get(kind) ?? 0) + 1);
  let running = true;
  try {
    log(`starting: ${JSON.stringify(settings)}`);
    await net.start();
    const centrals: RoleProcess[] = [];
    for (let i = 0; i < settings.centrals; i++) centrals.push(await net.startCentral(`central-${i + 1}`));
    const cps: ChargingPointProcesses[] = [];
    for (let i = 0; i < settings.cps; i++) cps.push(await net.startCp(`CP_Z${i + 1}`, "Granada"));
    log("network up; charging");
    const until = Date.now() + settings.seconds * 1000;

    /** One driver per CP, charging again and again until the time is up. */
    const drive = async (cp: ChargingPointProcesses, n: number) => {
      while (running && Date.now() < until) {
        const [lo, hi] = settings.charge;
        const seconds = Math.round(lo + rand() * (hi - lo));
        const unplug = settings.unplugOneIn > 0 && rand() < 1 / settings.unplugOneIn;
        tally.charges++;
        // An unplugged car: the driver would stop much later; the car is unplugged `seconds` into the supply.
        const driver = net.driver(`D_Z${n}`, ["--cp", cp.cpId, "--charge-seconds", String(unplug ? seconds + 60 : seconds)], { DRIVER_TICKET_TIMEOUT: "600" });
        if (unplug) void unplugLater(cp, driver, seconds);
        await driver.proc.exited;
        for (const line of jsonLines(driver)) {
          if (line.type === "ticket") tally.tickets++;
          else if (line.type === "refused") tally.refusals.set(line.code, (tally.refusals.get(line.code) ?? 0) + 1);
          else tally.problems.push(`${cp.cpId}: ${line.reason}`);
        }
        await Bun.sleep(500 + rand() * 1500);
      }
    };

    /** Unplugs the car `seconds` after the engine started supplying this driver's charge. */
    const unplugLater = async (cp: ChargingPointProcesses, driver: RoleProcess, seconds: number) => {
      const engine = cp.engine;
      const from = engine.lines.length;
      const supplying = () => engine.lines.slice(from).some((l) => l.includes(`supplying session_id=`) && l.includes(`driver_id=${driver.name.split(" ")[1]}`));
      while (!supplying()) {
        if (driver.proc.exitCode !== null || engine.proc.exitCode !== null || engine !== cp.engine) return;
        await Bun.sleep(200);
      }
      await Bun.sleep(seconds * 1000);
      if (driver.proc.exitCode === null && cp.engine.proc.exitCode === null) {
        cp.engine.proc.kill("SIGUSR2");
        fault("car unplugged");
      }
    };

    const every = (seconds: number, action: () => Promise<void>) =>
      (async () => {
        if (seconds <= 0) return;
        while (running && Date.now() + seconds * 1000 < until) {
          await Bun.sleep(seconds * 1000 * (0.5 + rand()));
          if (running && Date.now() < until) await action().catch((err) => tally.problems.push(`fault injection failed: ${String(err)}`));
        }
      })();

    const faults = [
      every(settings.killCentralEvery, async () => {
        const i = Math.floor(rand() * centrals.length);
        log(`killing central-${i + 1}`);
        centrals[i]!.proc.kill("SIGKILL");
        await centrals[i]!.proc.exited;
        fault("Central killed");
        await Bun.sleep(settings.centralDown * 1000);
        centrals[i] = await net.startCentral(`central-${i + 1}`);
      }),
      every(settings.restartEngineEvery, async () => {
        const cp = pick(cps);
        const monitorToo = settings.withMonitor > 0 && rand() < 1 / settings.withMonitor;
        log(`restarting ${cp.cpId}'s engine${monitorToo ? " and monitor" : ""}`);
        if (monitorToo) cp.monitor.proc.kill("SIGKILL");
        cp.engine.proc.kill("SIGKILL");
        await Promise.all([cp.engine.proc.exited, monitorToo ? cp.monitor.proc.exited : undefined]);
        fault(monitorToo ? "engine and monitor restarted" : "engine restarted");
        cp.engine = await net.startEngine(cp.cpId, cp.port);
        if (monitorToo) cp.monitor = await net.startMonitor(cp.cpId, "Granada", cp.port);
      }),
      every(settings.pgOutageEvery, async () => {
        log(`crashing PostgreSQL for ${settings.pgOutageFor} s`);
        await pg!.down(true);
        fault("PostgreSQL crashed");
        await Bun.sleep(settings.pgOutageFor * 1000);
        await pg!.up();
        log("PostgreSQL is back");
      }),
    ];
    await Promise.all([...cps.map((cp, i) => drive(cp, i + 1)), ...faults]);
    running = false;
    log("time is up; waiting for the network to settle");
    const settleBy = Date.now() + 120_000;
    while (Date.now() < settleBy && (await net.sql`select 1 from charging_sessions where status = 'IN_PROGRESS'`).length > 0) await Bun.sleep(1000);
    await Bun.sleep(3000); // late final readings and their corrections
    const audit = await net.auditMeters();
    const lines = [
      "",
      `fault run: ${settings.seconds} s, ${settings.cps} CPs, ${settings.centrals} Centrals, seed ${settings.seed}`,
      ...[...tally.faults].map(([k, n]) => `  ${k}: ${n}`),
      `charges asked ${tally.charges}, tickets printed by drivers ${tally.tickets}`,
      `refusals: ${[...tally.refusals].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`,
      `driver problems: ${tally.problems.length}${tally.problems.length ? ` (${[...new Set(tally.problems)].slice(0, 5).join("; ")})` : ""}`,
      "",
      formatAudit(audit),
      "",
      `mismatches: ${mismatches(audit)}`,
    ];
    console.log(lines.join("\n"));
    return mismatches(audit) === 0 ? 0 : 1;
  } finally {
    running = false;
    await net.stop().catch((err) => console.error("stopping the network:", err));
    await pg?.remove();
  }
}

process.exit(await main());
