/**
 * The Kafka access table: each role's principal may read and write exactly the topics and
 * consumer groups the role uses, and a CP with a principal of its own gets only its own groups.
 */
import { describe, expect, test } from "bun:test";
import { type Grant, type Principal, principalsFor } from "../../src/bus/kafka-access.ts";
import { topicsFor } from "../../src/bus/topics.ts";

const t = topicsFor("net");
const can = (p: Principal, operation: string, resource: Grant["resource"], name: string) =>
  p.grants.some((g) => g.resource === resource && g.operations.includes(operation as never) && (g.prefixed ? name.startsWith(g.name) : g.name === name));
const named = (principals: Principal[], username: string) => principals.find((p) => p.username === username)!;

describe("the Kafka access table", () => {
  const table = principalsFor({ topicPrefix: "net" });

  test("gives Central what it consumes and produces, and its group", () => {
    const central = named(table, "net-central");
    for (const topic of [t.driverRequests, t.cpEvents, t.centralControl]) expect(can(central, "Read", "topic", topic)).toBe(true);
    for (const topic of [t.driverUpdates, t.cpCommands, t.cpEvents, t.centralLive]) expect(can(central, "Write", "topic", topic)).toBe(true);
    expect(can(central, "Read", "group", "net.central")).toBe(true);
    expect(can(central, "Read", "topic", t.driverUpdates)).toBe(false);
  });

  test("lets the API only send control messages and read Central's live figures", () => {
    const api = named(table, "net-api");
    expect(can(api, "Write", "topic", t.centralControl)).toBe(true);
    expect(can(api, "Read", "topic", t.centralLive)).toBe(true);
    expect(can(api, "Read", "group", `net.api-live.${crypto.randomUUID()}`)).toBe(true);
    for (const topic of Object.values(t).filter((name) => name !== t.centralLive)) expect(can(api, "Read", "topic", topic)).toBe(false);
    for (const topic of [t.cpCommands, t.driverUpdates, t.driverRequests, t.cpEvents, t.centralLive]) expect(can(api, "Write", "topic", topic)).toBe(false);
    expect(can(api, "Read", "group", "net.central")).toBe(false);
  });

  test("keeps CPs and drivers to their own directions", () => {
    const cp = named(table, "net-cp");
    const driver = named(table, "net-driver");
    // A CP reads its driver's stop requests (the engine stops on them) but cannot write any.
    expect(can(cp, "Write", "topic", t.cpEvents) && can(cp, "Read", "topic", t.cpCommands) && can(cp, "Read", "topic", t.driverRequests)).toBe(true);
    expect(
      can(cp, "Write", "topic", t.cpCommands) ||
        can(cp, "Write", "topic", t.centralControl) ||
        can(cp, "Read", "topic", t.cpEvents) ||
        can(cp, "Write", "topic", t.driverRequests),
    ).toBe(false);
    expect(can(driver, "Write", "topic", t.driverRequests) && can(driver, "Read", "topic", t.driverUpdates)).toBe(true);
    expect(can(driver, "Write", "topic", t.driverUpdates) || can(driver, "Write", "topic", t.cpCommands) || can(driver, "Read", "topic", t.cpCommands)).toBe(
      false,
    );
    expect(can(cp, "Create", "topic", t.cpEvents) || can(driver, "Create", "topic", t.driverRequests)).toBe(false);
  });

  test("gives a CP of its own only its own consumer groups", () => {
    const cp = named(principalsFor({ topicPrefix: "net", cps: ["CP_1"] }), "net-cp-CP_1");
    expect(can(cp, "Read", "group", "net.engine.CP_1") && can(cp, "Read", "group", "net.monitor.CP_1")).toBe(true);
    expect(can(cp, "Read", "group", "net.engine.CP_2") || can(cp, "Read", "group", "net.engine.CP_10")).toBe(false);
  });

  test("honours a custom Central group", () => {
    expect(can(named(principalsFor({ topicPrefix: "net", centralGroup: "ops.central" }), "net-central"), "Read", "group", "ops.central")).toBe(true);
  });
});
