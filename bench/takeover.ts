/**
 * `bun bench/takeover.ts`: how long a Central's CPs go without service when it dies, for several
 * group session timeouts (KAFKA_SESSION_TIMEOUT_MS). Two Centrals share a consumer group on the
 * real Kafka and PostgreSQL (scripts/services.sh); a prober, a registered driver with its own
 * channel key, sends a sealed charge request every 100 ms on keys of every partition (for CPs
 * that do not exist: each is answered with a refusal at once, sealed for the driver, so an
 * answer means the owner of that partition is serving). One Central is killed
 * (SIGKILL), and the longest gap between answers on its partitions is how long they went without
 * service. The same with a Central killed and started again at once (a supervisor restarting
 * it), and stopped cleanly (it leaves the group).
 *
 * Settings (environment): TAKEOVER_TIMEOUTS_MS=10000,6000,3000  TAKEOVER_ROUNDS=3
 * Prints one table line per timeout and way of dying: the median and worst gap in seconds.
 */
import { join } from "node:path";
import type { BusMessage } from "../src/bus/bus.ts";
import { KafkaBus } from "../src/bus/kafka.ts";
import type { DriverUpdate } from "../src/bus/messages.ts";
import { parseMasterKey } from "../src/crypto/keys.ts";
import { openDatabase } from "../src/db/client.ts";
import { createDriverChannel, type DriverChannel } from "../src/roles/driver/channel.ts";
import { registerDriverAndKey } from "../tests/support/network.ts";
import { TestNetwork } from "../tests/support/network-processes.ts";
import type { RoleProcess } from "../tests/support/processes.ts";

const REPO = new URL("..", import.meta.url).pathname;
const timeouts = (process.env.TAKEOVER_TIMEOUTS_MS ?? "10000,6000,3000").split(",").map(Number);
const rounds = Number(process.env.TAKEOVER_ROUNDS ?? "3");
if (timeouts.some((t) => !Number.isInteger(t) || t < 1000) || !Number.isInteger(rounds) || rounds < 1)
  throw new Error("TAKEOVER_TIMEOUTS_MS must list whole numbers of ms >= 1000, TAKEOVER_ROUNDS a whole number >= 1");

function servicesUp(): void {
  const result = Bun.spawnSync(["bash", join(REPO, "scripts/services.sh"), "up"], { stdout: "pipe", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error("scripts/services.sh up failed");
  const out = result.stdout.toString();
  process.env.TEST_DATABASE_URL = /^DATABASE_URL=(.+)$/m.exec(out)?.[1]?.trim();
  process.env.TEST_KAFKA_BROKERS = /^KAFKA_BROKERS=(.+)$/m.exec(out)?.[1]?.trim();
}

const PROBE_EVERY_MS = 100;
const PROBE_DRIVER = "D_PROBE";

/** The prober's driver account and channel key, in the network's database, as the API issues them. */
async function probeDriver(net: TestNetwork): Promise<DriverChannel> {
  const database = await openDatabase({ url: net.database.url, maxConnections: 1 });
  try {
    return createDriverChannel(PROBE_DRIVER, await registerDriverAndKey(database.db, parseMasterKey(net.masterKey), PROBE_DRIVER));
  } finally {
    await database.close();
  }
}

type Death = "killed" | "killed and restarted" | "stopped";

/** Sends requests on every partition and records when each is answered. */
class Prober {
  private timer?: ReturnType<typeof setInterval>;
  private n = 0;
  /** answer times per partition */
  readonly answered = new Map<number, number[]>();

  constructor(
    private net: TestNetwork,
    private keys: Map<number, string>,
    private bus: KafkaBus,
    private driver: DriverChannel,
  ) {}

  async start(): Promise<void> {
    await this.bus.subscribe({ topics: [this.net.topics.driverUpdates], groupId: `${this.net.prefix}-prober`, from: "latest" }, async (batch: BusMessage[]) => {
      const now = Date.now();
      for (const m of batch) {
        if (m.key !== PROBE_DRIVER) continue;
        const opened = await this.driver.open<DriverUpdate>(m);
        if (!opened.ok) continue;
        const cpId = "cp_id" in opened.payload ? opened.payload.cp_id : undefined;
        for (const [p, key] of this.keys) if (cpId === key) this.answered.get(p)!.push(now);
      }
    });
    for (const p of this.keys.keys()) this.answered.set(p, []);
    this.timer = setInterval(() => {
      const at = new Date().toISOString();
      void this.bus
        .publish(
          this.net.topics.driverRequests,
          [...this.keys.values()].map((key) =>
            this.driver.seal({ type: "charge_request", request_id: `probe-${++this.n}`, driver_id: PROBE_DRIVER, cp_id: key, at }, key),
          ),
        )
        .catch(() => {});
    }, PROBE_EVERY_MS);
  }

  /** The longest gap between answers on `partitions` from `from` to `to`. */
  longestGap(partitions: number[], from: number, to: number): number {
    let worst = 0;
    for (const p of partitions) {
      const times = [from, ...this.answered.get(p)!.filter((t) => t > from && t < to), to];
      for (let i = 1; i < times.length; i++) worst = Math.max(worst, times[i]! - times[i - 1]!);
    }
    return worst;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The Central group once it is stable with both members holding partitions. */
async function settled(net: TestNetwork) {
  for (const until = Date.now() + 120_000; Date.now() < until; await Bun.sleep(250)) {
    const group = await net.centralGroup().catch(() => undefined);
    if (group?.state === "Stable" && group.members.length === 2 && group.members.every((m) => m.assignments.length > 0)) return group;
  }
  throw new Error("the two Centrals did not settle into one group within 2 minutes");
}

async function measure(timeoutMs: number): Promise<Map<Death, number[]>> {
  const net = new TestNetwork({ sessionTimeoutMs: timeoutMs });
  const results = new Map<Death, number[]>();
  const bus = new KafkaBus({ brokers: net.brokers, clientId: "takeover-prober" });
  try {
    await net.start();
    const centrals = new Map<string, RoleProcess>();
    for (const name of ["central-a", "central-b"]) centrals.set(name, await net.startCentral(name));
    const partitionOf = await net.partitionsOf(Array.from({ length: 30 }, (_, i) => `NO_CP_${i}`));
    const keys = new Map<number, string>();
    for (const [key, p] of partitionOf) if (!keys.has(p)) keys.set(p, key);
    const prober = new Prober(net, keys, bus, await probeDriver(net));
    await prober.start();
    await Bun.sleep(3000);
    for (const death of ["killed", "killed and restarted", "stopped"] as Death[]) {
      for (let round = 0; round < rounds; round++) {
        const group = await settled(net);
        await Bun.sleep(1000); // answers flowing on every partition again
        const victim = group.members.find((m) => m.clientId.includes("central-a"));
        const partitions = victim?.assignments.find((a) => a.topic === net.topics.driverRequests)?.partitions ?? [];
        const a = centrals.get("central-a")!;
        const from = Date.now();
        if (death === "stopped") a.proc.kill("SIGINT");
        else a.proc.kill("SIGKILL");
        await a.proc.exited;
        if (death === "killed and restarted") centrals.set("central-a", await net.startCentral("central-a"));
        // Served again by someone: wait until every victim partition answered after a quiet spell.
        await Bun.sleep(timeoutMs + 8000);
        const gap = prober.longestGap(partitions, from, Date.now());
        results.set(death, [...(results.get(death) ?? []), gap]);
        console.log(`  timeout ${timeoutMs} ms, ${death}: partitions ${partitions.join(",")} without service for ${(gap / 1000).toFixed(1)} s`);
        if (death !== "killed and restarted") centrals.set("central-a", await net.startCentral("central-a"));
      }
    }
    prober.stop();
  } finally {
    await bus.close();
    await net.stop();
  }
  return results;
}

servicesUp();
const table: string[] = ["| session timeout | Central | median without service | worst |", "| --- | --- | --- | --- |"];
for (const t of timeouts) {
  console.log(`measuring with a session timeout of ${t} ms`);
  for (const [death, gaps] of await measure(t)) {
    const sorted = [...gaps].sort((x, y) => x - y);
    table.push(`| ${t / 1000} s | ${death} | ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(1)} s | ${(sorted.at(-1)! / 1000).toFixed(1)} s |`);
  }
}
console.log(`\n${table.join("\n")}`);
