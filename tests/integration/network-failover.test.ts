/**
 * Three Centrals in one consumer group, every role its own OS process over the real PostgreSQL
 * and Kafka. The broker's group coordinator shows partition N of every topic Central reads
 * given to one Central (a CP's driver requests and its events are decided together), with three,
 * two and one of them left after kills and with all three back; and through the kills every
 * ticket is what the engine metered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { GroupDescription } from "../../src/bus/kafka.ts";
import { formatAudit, mismatches } from "../support/meter-audit.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
const centrals = new Map<string, RoleProcess>();
/** One CP on each partition of the CP topics. */
const cpIds: string[] = [];

beforeAll(async () => {
  await net.start();
  for (const name of ["central-a", "central-b", "central-c"]) centrals.set(name, await net.startCentral(name));
  const partitionOf = await net.partitionsOf(Array.from({ length: 30 }, (_, i) => `CP_V${i}`));
  for (const p of [0, 1, 2]) cpIds.push([...partitionOf].find(([, q]) => q === p)![0]);
  for (const id of cpIds) await net.startCp(id, "Valencia");
}, 300_000);

afterAll(async () => {
  await net.stop();
}, 90_000);

/** The group once it has settled with `members` members, each holding partitions. */
async function settledGroup(members: number): Promise<GroupDescription> {
  let group: GroupDescription | undefined;
  await waitFor(
    async () => {
      group = await net.centralGroup();
      return group.state === "Stable" && group.members.length === members && group.members.every((m) => m.assignments.length > 0);
    },
    `the Central group to settle with ${members} member(s)`,
    { timeoutMs: 60_000, everyMs: 500 },
  );
  return group!;
}

/** Each member reads the same partition numbers of every topic, and together they read each once. */
function expectCopartitioned(group: GroupDescription): number[][] {
  const topics = [net.topics.driverRequests, net.topics.cpEvents, net.topics.centralControl];
  expect(group.protocol).toBe("evnet-copartition");
  const numbers = group.members.map((m) => {
    const byTopic = new Map(m.assignments.map((a) => [a.topic, a.partitions]));
    const mine = byTopic.get(net.topics.cpEvents) ?? [];
    for (const t of topics) expect(byTopic.get(t) ?? []).toEqual(mine);
    return mine;
  });
  expect(numbers.flat().sort()).toEqual([0, 1, 2]);
  return numbers;
}

function charge(round: string, seconds: number): RoleProcess[] {
  return cpIds.map((cp, i) => net.driver(`D_${round}${i}`, ["--cp", cp, "--charge-seconds", String(seconds)]));
}

async function expectTickets(drivers: RoleProcess[]): Promise<void> {
  for (const d of drivers) {
    expect(await d.proc.exited).toBe(0);
    expect(jsonLines(d)[0]).toMatchObject({ type: "ticket", end_reason: "driver_stop" });
  }
}

async function expectExactBills(sessions: number): Promise<void> {
  const audit = await net.auditMeters();
  console.log(formatAudit(audit));
  expect(audit.sessions).toBe(sessions);
  expect(audit.compared).toBe(sessions);
  expect(mismatches(audit)).toBe(0);
}

describe("three Centrals in one consumer group", () => {
  test("partition N of every topic goes to one Central, one number each", async () => {
    const numbers = expectCopartitioned(await settledGroup(3));
    expect(numbers.map((n) => n.length)).toEqual([1, 1, 1]);
  }, 90_000);

  test("killed one after another while every CP charges: the survivors hold whole partition numbers, and every ticket is the meter", async () => {
    const drivers = charge("K", 30);
    await waitFor(
      async () => (await net.sql`select 1 from charging_sessions where status = 'IN_PROGRESS' and energy_kwh > 0`).length === cpIds.length,
      "every CP supplying",
      { timeoutMs: 60_000 },
    );
    centrals.get("central-a")!.proc.kill("SIGKILL");
    const two = expectCopartitioned(await settledGroup(2));
    expect(two.map((n) => n.length).sort()).toEqual([1, 2]);
    centrals.get("central-b")!.proc.kill("SIGKILL");
    expectCopartitioned(await settledGroup(1));
    await expectTickets(drivers);
    await expectExactBills(cpIds.length);
  }, 240_000);

  test("with the killed ones back, the group is whole again and charges end exact", async () => {
    centrals.set("central-a", await net.startCentral("central-a"));
    centrals.set("central-b", await net.startCentral("central-b"));
    const numbers = expectCopartitioned(await settledGroup(3));
    expect(numbers.map((n) => n.length)).toEqual([1, 1, 1]);
    await expectTickets(charge("R", 4));
    await expectExactBills(2 * cpIds.length);
    for (const id of cpIds) await net.waitForStatus(id, "ACTIVE", 30_000);
  }, 240_000);
});
