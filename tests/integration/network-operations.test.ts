/**
 * The charging network's other ways a session ends and an operator's levers, every role its
 * own OS process over the real PostgreSQL and Kafka: the maximum duration, an unplugged car,
 * `evnet central stop|resume|revoke|cps|stats` run headless by an operator.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SupplyEnded } from "../../src/bus/messages.ts";
import { type ChargingPointProcesses, jsonLines, TestNetwork } from "../support/network-processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
const cps: Record<string, ChargingPointProcesses> = {};

beforeAll(async () => {
  await net.start();
  await net.startCentral("central-o");
  cps.CP_O1 = await net.startCp("CP_O1", "Toledo", ["--max-duration", "3"]);
  cps.CP_O2 = await net.startCp("CP_O2", "Toledo");
  cps.CP_O3 = await net.startCp("CP_O3", "Toledo");
}, 240_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

/** `evnet central <operation>` as an operator runs it. */
async function operate(...args: string[]): Promise<{ code: number; out: string }> {
  const role = net.spawn(`central ${args.join(" ")}`, ["central", ...args], {
    DATABASE_URL: net.database.url,
    ...net.busEnv("central"),
    EVNET_CONTROL_SIGNING_KEY: net.certs.controlKeyFile,
  });
  const code = await role.proc.exited;
  return { code, out: role.lines.filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l)).join("\n") };
}

describe("sessions that end by themselves", () => {
  test("the engine stops at the maximum charging duration and the driver gets the ticket", async () => {
    const driver = net.driver("D_O1", ["--cp", "CP_O1"]);
    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", cp_id: "CP_O1", end_reason: "max_duration" });
    expect(ticket.duration_s).toBeGreaterThanOrEqual(3);
    expect(ticket.duration_s).toBeLessThan(10);
  }, 60_000);

  test("unplugging the car ends the session with a ticket for what was delivered", async () => {
    const driver = net.driver("D_O2", ["--cp", "CP_O2", "--charge-seconds", "600"]);
    await waitFor(async () => ((await net.openSessionAt("CP_O2"))?.energy_kwh ?? 0) > 0, "the session to be billing", { timeoutMs: 30_000 });
    cps.CP_O2!.engine.proc.kill("SIGUSR2");
    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", end_reason: "unplugged" });
    const ended = (await net.engineReadings("CP_O2", ticket.session_id)).find((r): r is SupplyEnded => r.type === "supply_ended");
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    await net.waitForStatus("CP_O2", "ACTIVE");
  }, 60_000);
});

describe("a driver's app, headless", () => {
  test("lists the available charging points and the driver's history from Central's API", async () => {
    const list = net.driver("D_O2", ["--list"]);
    expect(await list.proc.exited).toBe(0);
    const listed = list.lines.filter((l) => l.startsWith("CP_O"));
    expect(listed.map((l) => l.split(/\s+/)[0])).toEqual(expect.arrayContaining(["CP_O1", "CP_O2", "CP_O3"]));
    expect(listed.every((l) => l.includes("Toledo") && l.includes("€/kWh"))).toBe(true);
    const history = net.driver("D_O2", ["--history"]);
    expect(await history.proc.exited).toBe(0);
    expect(history.lines.some((l) => l.includes("CP_O2") && l.includes("unplugged"))).toBe(true);
  }, 60_000);
});

describe("an operator, headless", () => {
  test("stops a CP (drivers are refused), lists it as stopped, and resumes all", async () => {
    expect((await operate("stop", "CP_O3", "maintenance")).code).toBe(0);
    await net.waitForStatus("CP_O3", "STOPPED");
    const listed = await operate("cps", "all", "--json");
    expect(listed.code).toBe(0);
    // The API's body and field names (GET /ev/central/charging-points).
    const { charging_points } = JSON.parse(listed.out) as { charging_points: { cp_id: string; status: string; location: string }[] };
    expect(charging_points.find((r) => r.cp_id === "CP_O3")).toMatchObject({ status: "STOPPED", location: "Toledo" });
    const refused = net.driver("D_O3", ["--cp", "CP_O3"]);
    expect(await refused.proc.exited).toBe(1);
    expect(jsonLines(refused)[0]).toMatchObject({ type: "refused", code: "cp_stopped" });
    expect((await operate("resume", "all")).code).toBe(0);
    await net.waitForStatus("CP_O3", "ACTIVE");
    const audit = await net.sql`select action, reason from audit_events where event_type = 'operator' and resource = 'cp/CP_O3' order by id`;
    expect(audit.map((a) => [a.action, a.reason])).toEqual([
      ["stop_cp", "maintenance"],
      ["resume_cp", "resumed by the operator"],
    ]);
  }, 60_000);

  test("revokes a CP's key: it stops until its monitor authenticates again, then it is ACTIVE", async () => {
    const before = (await net.sql`select key_id from cp_keys where cp_id = 'CP_O3' and revoked_at is null`)[0]!.key_id;
    const revoked = await operate("revoke", "CP_O3");
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain("revoked 1 key(s) of CP_O3");
    await waitFor(
      async () => (await net.sql`select 1 from audit_events where resource = 'cp/CP_O3' and details->>'to' = 'STOPPED'`).length > 0,
      "Central to stop the CP",
      { timeoutMs: 30_000 },
    );
    await waitFor(async () => (await net.sql`select key_id from cp_keys where cp_id = 'CP_O3' and revoked_at is null`)[0]?.key_id !== before, "a new key", {
      timeoutMs: 30_000,
    });
    await net.waitForStatus("CP_O3", "ACTIVE");
  }, 90_000);

  test("reads the statistics and refuses an unknown operation or CP plainly", async () => {
    const stats = await operate("stats", "--json");
    expect(stats.code).toBe(0);
    const s = JSON.parse(stats.out);
    expect(s.sessions_finished).toBeGreaterThanOrEqual(2);
    expect(s.charging_points.ACTIVE).toBeGreaterThanOrEqual(1);
    const unknownOp = await operate("explode");
    expect(unknownOp.code).toBe(2); // a mistyped command line
    expect(unknownOp.out).toContain("unknown operation");
    const unknownCp = await operate("stop", "CP_NOWHERE");
    expect(unknownCp.code).toBe(1);
    expect(unknownCp.out).toContain("no charging point CP_NOWHERE");
  }, 60_000);

  test("registers an OCPP charger, again with a new password and its price kept, and refuses bad answers and an evnet CP's id plainly", async () => {
    const first = await operate("register-ocpp", "OCPP_OP_1", "Toledo", "2", "0.45", "--json");
    expect(first.code).toBe(0);
    const registered = JSON.parse(first.out);
    expect([registered.cp_id, registered.price_per_kwh, registered.security_profile, registered.message]).toEqual([
      "OCPP_OP_1",
      0.45,
      2,
      expect.stringContaining("OCPP_OP_1 registered"),
    ]);
    const again = JSON.parse((await operate("register-ocpp", "OCPP_OP_1", "Toledo", "1", "--json")).out);
    expect([again.price_per_kwh, again.security_profile, again.message]).toEqual([0.45, 1, expect.stringContaining("registered again with a new password")]);
    expect(again.ocpp_password).toBeString();
    expect(again.ocpp_password).not.toBe(registered.ocpp_password);
    const refusals = await Promise.all([
      operate("register-ocpp", "OCPP_OP_2", "Toledo", "7"),
      operate("register-ocpp", "OCPP_OP_2", "Toledo", "2", "abc"),
      operate("register-ocpp", "OCPP_OP_2", " ", "2"),
      operate("register-ocpp", "CP_O3", "Toledo", "2"),
    ]);
    expect(refusals.map((r) => r.code)).toEqual([2, 2, 2, 1]); // bad answers are a mistyped command line; the id taken is a refusal
    expect(refusals[0]!.out).toContain("the security profile is 1, 2 or 3");
    expect(refusals[1]!.out).toContain("the price is 0.01-100 EUR per kWh");
    expect(refusals[2]!.out).toContain("the location is 1-100 characters");
    expect(refusals[3]!.out).toContain("CP_O3 is registered as an evnet charging point");
    expect((await net.sql`select count(*)::int as n from ocpp_chargers where cp_id = 'OCPP_OP_2'`)[0]!.n).toBe(0);
    expect((await net.sql`select protocol from charging_points where cp_id = 'CP_O3'`)[0]!.protocol).toBe("evnet");
  }, 60_000);
});
