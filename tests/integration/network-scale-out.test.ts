/**
 * Two Central instances in one consumer group, every role its own OS process over the real
 * PostgreSQL and Kafka: they split the CPs between them (each applies the partitions it was
 * given, and only those), no message is applied twice, and when one is killed the other takes
 * over its CPs: the sessions in progress there end with full tickets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SupplyEnded } from "../../src/bus/messages.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
const centrals: Record<string, RoleProcess> = {};
/** Two CPs on each partition of the CP topics. */
const cpIds: string[] = [];
let partitionOf = new Map<string, number>();

beforeAll(async () => {
  await net.start();
  centrals["central-a"] = await net.startCentral("central-a");
  centrals["central-b"] = await net.startCentral("central-b");
  partitionOf = await net.partitionsOf(Array.from({ length: 40 }, (_, i) => `CP_X${i}`));
  for (const p of [0, 1, 2])
    cpIds.push(
      ...[...partitionOf]
        .filter(([, q]) => q === p)
        .slice(0, 2)
        .map(([id]) => id),
    );
  expect(cpIds).toHaveLength(6);
  for (const id of cpIds) await net.startCp(id, "Valencia");
}, 300_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

/** The cpEvents partitions an instance says it applied. */
function appliedPartitions(instance: string): Set<number> {
  const out = new Set<number>();
  for (const line of centrals[instance]!.lines) {
    const m = new RegExp(`applying partition topic=${net.topics.cpEvents.replace(/\./g, "\\.")} partition=(\\d+)`).exec(line);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

async function charge(seconds: number): Promise<RoleProcess[]> {
  return cpIds.map((cp, i) => net.driver(`D_X${i}`, ["--cp", cp, "--charge-seconds", String(seconds)]));
}

async function ticketsOf(drivers: RoleProcess[]) {
  const tickets = [];
  for (const d of drivers) {
    expect(await d.proc.exited).toBe(0);
    tickets.push(jsonLines(d)[0]);
  }
  return tickets;
}

/** Who closed each session (Central audits a session's end with its instance name). */
async function closers(): Promise<Map<string, string>> {
  const rows = await net.sql`select details->>'session_id' as session_id, actor_id from audit_events where action = 'end_session'`;
  return new Map(rows.map((r) => [r.session_id as string, r.actor_id as string]));
}

describe("two Centrals in one consumer group", () => {
  test("split the CPs between them, each applying only its own partitions, and apply nothing twice", async () => {
    const tickets = await ticketsOf(await charge(3));
    expect(tickets.map((t) => t.type)).toEqual(cpIds.map(() => "ticket"));
    const a = appliedPartitions("central-a");
    const b = appliedPartitions("central-b");
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect([...a].filter((p) => b.has(p))).toEqual([]);
    // Each session was closed by the instance that owns its CP's partition.
    const closedBy = await closers();
    for (const t of tickets) expect(closedBy.get(t.session_id)).toBe(a.has(partitionOf.get(t.cp_id)!) ? "central-a" : "central-b");
    expect(new Set(closedBy.values())).toEqual(new Set(["central-a", "central-b"]));
    // Applied once: one start and one end per session, one session per request.
    const audits =
      await net.sql`select action, details->>'session_id' as session_id, count(*)::int as n from audit_events where action in ('start_session', 'end_session') group by 1, 2`;
    for (const row of audits) expect(row.n).toBe(1);
    expect(audits).toHaveLength(2 * tickets.length);
    const sessions = await net.sql`select count(*)::int as n from charging_sessions`;
    expect(sessions[0]!.n).toBe(tickets.length);
  }, 180_000);

  test("when one dies, the other takes over its CPs: their sessions in progress end with full tickets", async () => {
    const drivers = await charge(15);
    await waitFor(
      async () => (await net.sql`select 1 from charging_sessions where status = 'IN_PROGRESS' and energy_kwh > 0`).length === cpIds.length,
      "every CP supplying",
      { timeoutMs: 60_000 },
    );
    const dead = "central-a";
    const orphaned = [...appliedPartitions(dead)];
    centrals[dead]!.proc.kill("SIGKILL");
    const tickets = await ticketsOf(drivers);
    expect(tickets.map((t) => [t.type, t.end_reason])).toEqual(cpIds.map(() => ["ticket", "driver_stop"]));
    for (const t of tickets) {
      const ended = (await net.engineReadings(t.cp_id, t.session_id)).find((r): r is SupplyEnded => r.type === "supply_ended");
      expect(t.energy_kwh).toBe(ended!.energy_kwh);
      expect(await net.session(t.session_id)).toMatchObject({ status: "FINISHED", energy_kwh: t.energy_kwh });
    }
    // The survivor applied the dead instance's partitions and closed the sessions of their CPs.
    const survivor = appliedPartitions("central-b");
    for (const p of orphaned) expect(survivor.has(p)).toBe(true);
    const closedBy = await closers();
    for (const t of tickets) expect(closedBy.get(t.session_id)).toBe("central-b");
    for (const id of cpIds) await net.waitForStatus(id, "ACTIVE", 30_000);
  }, 240_000);
});
