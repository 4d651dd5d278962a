/**
 * OCPP chargers through one gateway: N WebSocket clients (OCPP 1.6J frames written by hand,
 * bench/ocpp-fleet.ts) connect to `evnet ocpp` (its own OS process, with Central and the API as
 * processes too) as chargers do after their central system restarted: first attempts spread
 * over a few seconds, refusals retried with back-off. Then each boots, starts a transaction and
 * sends MeterValues every 10 s and a Heartbeat every 60 s, spread evenly. Figures: how long all
 * N took to connect from a cold gateway (every password checked with the slow hash, every key
 * issued by the API), the p99 from a MeterValues sent to its energy visible in the API, the
 * gateway's CPU and memory per connection over the measured window, and how long all N take to
 * connect again after they all dropped at once (passwords and keys this gateway knows).
 *
 * The chargers are registered straight in the database with one shared password hash (each
 * first connection still pays the full scrypt check; only the registrations' hashing is saved).
 */
import { loadavg } from "node:os";
import type postgres from "postgres";
import { hashPassword } from "../src/crypto/passwords.ts";
import { meterKwh } from "../src/domain/billing.ts";
import { controlKeyEnv } from "../tests/support/control.ts";
import { type RoleProcess, spawnRole } from "../tests/support/processes.ts";
import { createBenchDatabase } from "./fleet.ts";
import { LatencySampler } from "./latency.ts";
import { BENCH_PASSWORD, BenchCharger, type ConnectOutcome, type ConnectPlan, connectFleet } from "./ocpp-fleet.ts";
import { benchSql } from "./postgres.ts";
import { CpuMeter, memoryMiB, pidsNamed } from "./proc.ts";
import type { Summary } from "./stats.ts";

export interface OcppSettings {
  databaseUrl: string;
  brokers: string[];
  runId: string;
  partitions: number;
  warmupS: number;
  seconds: number;
  latencySample: number;
  pollMinMs: number;
  meterEveryS: number;
  heartbeatEveryS: number;
  connect: ConnectPlan;
}

export interface ConnectFigures {
  connected: number;
  seconds: number;
  perChargerMs?: Summary;
  attempts: number;
  refused: number;
}

export interface OcppResult {
  kind: "ocpp";
  chargers: number;
  connect: ConnectFigures;
  reconnect?: ConnectFigures;
  plan: ConnectPlan;
  meterValuesPerS: number;
  latencyMs?: ReturnType<LatencySampler["summary"]>;
  gatewayCpu: number;
  centralCpu: number;
  apiCpu: number;
  postgresCpu: number;
  gatewayRssMiB: number;
  gatewayBaselineRssMiB: number;
  gatewayKiBPerConnection: number;
  /** The machine's load average (1, 5, 15 min) when the step began and when its window ended. */
  loadAtStart: number[];
  loadAtEnd: number[];
  errors: string[];
}

const MAIN = new URL("../src/main.ts", import.meta.url).pathname;
const GATEWAY_TOKEN = "bench-gateway-token-0123456789";
const round2 = (x: number) => Math.round(x * 100) / 100;

const figures = (o: ConnectOutcome): ConnectFigures => ({
  connected: o.connected.length,
  seconds: round2(o.seconds),
  perChargerMs: o.perCharger,
  attempts: o.attempts,
  refused: o.refused,
});

async function seed(sql: postgres.Sql, n: number): Promise<string[]> {
  const hash = await hashPassword(BENCH_PASSWORD);
  const ids = Array.from({ length: n }, (_, i) => `OB${String(i + 1).padStart(6, "0")}`);
  for (let i = 0; i < n; i += 2000) {
    const chunk = ids.slice(i, i + 2000);
    await sql`insert into charging_points (cp_id, location, price_per_kwh, protocol, keeps_charging_offline)
              select id, 'Madrid', 0.3, 'ocpp', true from unnest(${chunk}::text[]) as id`;
    await sql`insert into ocpp_chargers (cp_id, security_profile, password_hash) select id, 1, ${hash} from unnest(${chunk}::text[]) as id`;
    // Driver accounts (a credential is what makes one): only their id tags are accepted.
    await sql`insert into drivers (driver_id, credential_hash, registered_at)
              select 'D' || id, encode(sha256(convert_to('bench credential ' || id, 'UTF8')), 'hex'), now() from unnest(${chunk}::text[]) as id`;
  }
  return ids;
}

export async function runOcpp(s: OcppSettings, n: number, log: (m: string) => void): Promise<OcppResult> {
  const prefix = `bench-${s.runId}-ocpp-${n}`;
  const database = await createBenchDatabase(s.databaseUrl);
  const sql = benchSql(database.url, 2);
  const roles: RoleProcess[] = [];
  let clients: BenchCharger[] = [];
  const timers: (ReturnType<typeof setInterval> | ReturnType<typeof setTimeout>)[] = [];
  const masterKey = "ab".repeat(32);
  const bus = { KAFKA_BROKERS: s.brokers.join(","), EVNET_TOPIC_PREFIX: prefix, KAFKA_TOPIC_PARTITIONS: String(s.partitions) };
  const start = (name: string, args: string[], env: Record<string, string>, ready: RegExp) => {
    const role = spawnRole(
      name,
      args,
      { ...bus, DATABASE_URL: database.url, EVNET_MASTER_KEY: masterKey, ...controlKeyEnv(), ...env },
      { command: [process.execPath, MAIN] },
    );
    roles.push(role);
    return role.waitForLine(ready, 120_000).then((line) => ({ role, line }));
  };
  try {
    const ids = await seed(sql, n);
    const api = await start(
      "api",
      ["api"],
      {
        API_PORT: "0",
        EVNET_OPERATOR_TOKEN: "bench-operator-token-0123456789",
        EVNET_SERVICE_TOKEN: "bench-service-token-0123456789",
        EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN,
      },
      /listening/,
    );
    const apiUrl = /url=(\S+)/.exec(api.line)![1]!.replace(/\/$/, "");
    const central = await start("central", ["central", "--no-menu"], { CENTRAL_INSTANCE_ID: "central-1" }, /central ready/);
    const gateway = await start(
      "gateway",
      ["ocpp"],
      { API_URL: apiUrl, EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN, OCPP_PORT: "0", OCPP_INSTANCE_ID: "gateway-bench", DATABASE_POOL_SIZE: "20" },
      /ocpp gateway listening/,
    );
    const url = /url=(\S+)/.exec(gateway.line)![1]!;
    const gatewayPid = gateway.role.proc.pid;
    const baseline = memoryMiB(gatewayPid)?.rss ?? 0;

    // Connect the fleet from a cold gateway: every password checked, every key issued.
    log(`ocpp: connecting ${n} chargers (first attempts over ${s.connect.spreadS} s, at most ${s.connect.concurrency} handshakes at once)`);
    const loadAtStart = loadavg().map(round2);
    const cold = await connectFleet(
      ids.map((id) => new BenchCharger(id)),
      url,
      s.connect,
      (c) => c.call("BootNotification", { chargePointVendor: "bench", chargePointModel: "raw-1.6" }),
    );
    clients = cold.connected;
    const errors = [...cold.errors];
    log(`ocpp: ${clients.length} connected in ${cold.seconds.toFixed(1)} s (${cold.attempts} attempts, ${cold.refused} refused or timed out)`);

    // Every charger starts a transaction (an RFID start), so its meter values are telemetry.
    let started = 0;
    const refused = new Map<string, number>();
    for (let i = 0; i < clients.length; i += 200)
      await Promise.all(
        clients.slice(i, i + 200).map(async (c) => {
          await c.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Charging" });
          const answer = await c.call("StartTransaction", { connectorId: 1, idTag: `D${c.id}`, meterStart: 0, timestamp: new Date().toISOString() });
          // Only an accepted id tag opens a session; a charger told otherwise is not charging.
          if (answer?.idTagInfo?.status === "Accepted") {
            c.transactionId = answer.transactionId;
            started++;
          } else refused.set(answer?.idTagInfo?.status ?? "no answer", (refused.get(answer?.idTagInfo?.status ?? "no answer") ?? 0) + 1);
        }),
      );
    log(`ocpp: ${started} transactions started${refused.size ? `, refused: ${[...refused].map(([k, v]) => `${v} ${k}`).join(", ")}` : ""}`);
    if (refused.size) errors.push(`StartTransaction not accepted: ${[...refused].map(([k, v]) => `${v} ${k}`).join(", ")}`);

    // The latency sample: a few chargers' sessions, as the API names them.
    const sampler = new LatencySampler(apiUrl, s.pollMinMs);
    const sampled = new Map<BenchCharger, string>();
    for (const c of clients.slice(0, s.latencySample)) {
      for (let tries = 0; tries < 200 && !sampled.has(c); tries++) {
        const body = (await (await fetch(`${apiUrl}/ev/central/charging-points/${c.id}`)).json()) as { charging_point?: { session?: { session_id: string } } };
        const session = body.charging_point?.session?.session_id;
        if (session) sampled.set(c, session);
        else await Bun.sleep(100);
      }
    }
    log(`ocpp: following ${sampled.size} of ${s.latencySample} sampled sessions for the MeterValues → API latency`);

    // Steady load: each charger on its own phase of the 10 s meter and 60 s heartbeat cycles.
    let meterValues = 0;
    let counting = false;
    const whPerTick = (22_000 * s.meterEveryS) / 3600;
    clients.forEach((c, i) => {
      const meterPhase = (i / clients.length) * s.meterEveryS * 1000;
      const heartbeatPhase = (i / clients.length) * s.heartbeatEveryS * 1000;
      const meterStart = setTimeout(() => {
        timers.push(
          setInterval(() => {
            c.register += whPerTick;
            const sentAt = Date.now();
            const wh = Math.round(c.register);
            c.ws?.send(
              JSON.stringify([
                2,
                `mv${sentAt}`,
                "MeterValues",
                {
                  connectorId: 1,
                  transactionId: c.transactionId,
                  meterValue: [{ timestamp: new Date(sentAt).toISOString(), sampledValue: [{ value: String(wh) }] }],
                },
              ]),
            );
            if (counting) meterValues++;
            const session = sampled.get(c);
            if (session) sampler.sent(session, meterKwh(wh / 1000), sentAt);
          }, s.meterEveryS * 1000),
        );
      }, meterPhase);
      const heartbeatStart = setTimeout(
        () => timers.push(setInterval(() => void c.call("Heartbeat", {}).catch(() => undefined), s.heartbeatEveryS * 1000)),
        heartbeatPhase,
      );
      timers.push(meterStart, heartbeatStart);
    });
    await Bun.sleep(s.warmupS * 1000);
    const meters = {
      gateway: new CpuMeter(() => [gatewayPid]),
      central: new CpuMeter(() => [central.role.proc.pid]),
      api: new CpuMeter(() => [api.role.proc.pid]),
      postgres: new CpuMeter(() => pidsNamed("postgres")),
    };
    for (const m of Object.values(meters)) m.begin();
    sampler.open();
    counting = true;
    const w0 = performance.now();
    await Bun.sleep(s.seconds * 1000);
    counting = false;
    sampler.closeWindow();
    const windowS = (performance.now() - w0) / 1000;
    const cpu = Object.fromEntries(Object.entries(meters).map(([k, m]) => [k, round2(m.end())])) as Record<keyof typeof meters, number>;
    const memory = memoryMiB(gatewayPid) ?? { rss: 0, peak: 0 };
    const loadAtEnd = loadavg().map(round2);
    await sampler.settle(30_000);
    sampler.close();
    const latency = sampler.summary();

    // Every charger drops at once (a network cut, a load balancer restarting) and comes back:
    // passwords and keys this gateway knows.
    for (const t of timers) clearInterval(t);
    timers.length = 0;
    for (const c of clients) c.close();
    await Bun.sleep(3_000);
    log(`ocpp: reconnecting ${clients.length} chargers`);
    const warm = await connectFleet(clients, url, s.connect, (c) => c.call("Heartbeat", {}));
    errors.push(...warm.errors);
    log(`ocpp: ${warm.connected.length} connected again in ${warm.seconds.toFixed(1)} s (${warm.attempts} attempts, ${warm.refused} refused or timed out)`);
    return {
      kind: "ocpp",
      chargers: n,
      connect: figures(cold),
      reconnect: figures(warm),
      plan: s.connect,
      meterValuesPerS: Math.round(meterValues / windowS),
      latencyMs: latency,
      gatewayCpu: cpu.gateway,
      centralCpu: cpu.central,
      apiCpu: cpu.api,
      postgresCpu: cpu.postgres,
      gatewayRssMiB: Math.round(memory.rss),
      gatewayBaselineRssMiB: Math.round(baseline),
      gatewayKiBPerConnection: round2(((memory.rss - baseline) * 1024) / Math.max(1, clients.length)),
      loadAtStart,
      loadAtEnd,
      errors,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    for (const c of clients) c.close();
    for (const r of [...roles].reverse()) await r.stop();
    await sql.end();
    await database.drop();
  }
}
