/**
 * The fault paths of the charging network, every role its own OS process over the real
 * PostgreSQL and Kafka. Each ends in a consistent state with nothing lost: the CP's state says
 * what happened, the session is closed with a ticket for what the engine delivered, and the CP
 * comes back when the fault is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SupplyEnded, Telemetry } from "../../src/bus/messages.ts";
import { costOf } from "../../src/domain/billing.ts";
import { type ChargingPointProcesses, jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
let central: RoleProcess;
const cps: Record<string, ChargingPointProcesses> = {};

beforeAll(async () => {
  await net.start();
  central = await net.startCentral("central-f", process.env.CENTRAL_DEBUG ? { EVNET_LOG_LEVEL: "debug" } : {});
  for (const id of ["CP_F1", "CP_F2", "CP_F3", "CP_F4"]) cps[id] = await net.startCp(id, "Bilbao");
}, 300_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

/** Starts a driver charging at a CP for long, and waits until the engine has streamed some telemetry. */
async function chargingDriver(driverId: string, cpId: string): Promise<{ driver: RoleProcess; sessionId: string }> {
  const driver = net.driver(driverId, ["--cp", cpId, "--charge-seconds", "600"]);
  let sessionId = "";
  await waitFor(
    async () => {
      sessionId = (await net.openSessionAt(cpId))?.session_id ?? "";
      return sessionId !== "";
    },
    `a session at ${cpId}`,
    { timeoutMs: 30_000 },
  );
  await waitFor(async () => ((await net.session(sessionId))?.energy_kwh ?? 0) > 0, "telemetry applied", { timeoutMs: 30_000 });
  return { driver, sessionId };
}

async function ticketOf(driver: RoleProcess) {
  expect(await driver.proc.exited).toBe(0);
  const [ticket] = jsonLines(driver);
  expect(ticket.type).toBe("ticket");
  return ticket;
}

async function engineFinal(cpId: string, sessionId: string) {
  const readings = await net.engineReadings(cpId, sessionId);
  return {
    telemetry: readings.filter((r): r is Telemetry => r.type === "telemetry"),
    ended: readings.find((r): r is SupplyEnded => r.type === "supply_ended"),
  };
}

describe("the engine fails mid-session", () => {
  test("a simulated KO makes the CP BROKEN and ends the session with a ticket for what was delivered; recovery makes it ACTIVE", async () => {
    const { engine } = cps.CP_F1!;
    const { driver, sessionId } = await chargingDriver("D_F1", "CP_F1");
    engine.proc.kill("SIGUSR1");
    await net.waitForStatus("CP_F1", "BROKEN", 30_000);
    const ticket = await ticketOf(driver);
    expect(ticket).toMatchObject({ session_id: sessionId, end_reason: "fault" });
    const { ended } = await engineFinal("CP_F1", sessionId);
    expect(ended?.reason).toBe("fault");
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    expect(ticket.cost_eur).toBe(costOf(ticket.energy_kwh, ticket.price_per_kwh));
    // A driver asking now is refused: the CP is broken.
    const refused = net.driver("D_F1b", ["--cp", "CP_F1"]);
    expect(await refused.proc.exited).toBe(1);
    expect(jsonLines(refused)[0]).toMatchObject({ type: "refused", code: "cp_broken" });
    engine.proc.kill("SIGUSR1");
    await net.waitForStatus("CP_F1", "ACTIVE", 30_000);
  }, 120_000);

  test("an engine process that dies is reported BROKEN by its monitor; the ticket bills the last reading Central got", async () => {
    const cp = cps.CP_F2!;
    const { driver, sessionId } = await chargingDriver("D_F2", "CP_F2");
    cp.engine.proc.kill("SIGKILL");
    await net.waitForStatus("CP_F2", "BROKEN", 30_000);
    const ticket = await ticketOf(driver);
    expect(ticket).toMatchObject({ session_id: sessionId, end_reason: "fault" });
    const { telemetry, ended } = await engineFinal("CP_F2", sessionId);
    expect(ended).toBeUndefined(); // it died without a word
    expect(ticket.energy_kwh).toBe(telemetry.at(-1)!.energy_kwh);
    expect(await net.session(sessionId)).toMatchObject({ status: "FINISHED", energy_kwh: ticket.energy_kwh, end_reason: "fault" });
    // A new engine on the same port: the monitor hands it the key and the CP is ACTIVE again.
    cp.engine = await net.startEngine("CP_F2", cp.port);
    await net.waitForStatus("CP_F2", "ACTIVE", 30_000);
  }, 120_000);
});

describe("the monitor goes away mid-session", () => {
  test("Central marks the CP DISCONNECTED after 3 missed heartbeats, stops the supply and bills what the engine delivered", async () => {
    const cp = cps.CP_F3!;
    const { driver, sessionId } = await chargingDriver("D_F3", "CP_F3");
    cp.monitor.proc.kill("SIGKILL");
    await net.waitForStatus("CP_F3", "DISCONNECTED", 30_000);
    const ticket = await ticketOf(driver);
    expect(ticket).toMatchObject({ session_id: sessionId, end_reason: "disconnected" });
    const { ended } = await engineFinal("CP_F3", sessionId);
    expect(ended).toBeDefined(); // the engine was told to stop and reported its final reading
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    cp.monitor = await net.startMonitor("CP_F3", "Bilbao", cp.port);
    await net.waitForStatus("CP_F3", "ACTIVE", 30_000);
  }, 120_000);
});

describe("Central is killed mid-session", () => {
  test("after a restart the session goes on, the driver's stop is applied, and the ticket has all the energy", async () => {
    const driver = net.driver("D_F4", ["--cp", "CP_F4", "--charge-seconds", "14"]);
    await waitFor(async () => ((await net.openSessionAt("CP_F4"))?.energy_kwh ?? 0) > 0, "the session to be billing", { timeoutMs: 30_000 });
    const sessionId = (await net.openSessionAt("CP_F4"))!.session_id as string;
    central.proc.kill("SIGKILL");
    await central.proc.exited;
    await Bun.sleep(2000); // the engine keeps supplying; its telemetry waits in Kafka
    central = await net.startCentral("central-f");
    const ticket = await ticketOf(driver);
    expect(ticket).toMatchObject({ session_id: sessionId, end_reason: "driver_stop" });
    const { telemetry, ended } = await engineFinal("CP_F4", sessionId);
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    expect(ticket.duration_s).toBeGreaterThanOrEqual(13);
    expect(telemetry.length).toBeGreaterThanOrEqual(10);
    const sessions = await net.sql`select session_id, status from charging_sessions where cp_id = 'CP_F4'`;
    expect([...sessions]).toEqual([{ session_id: sessionId, status: "FINISHED" }]);
    // The backlog of heartbeats was applied before any silence was judged: no false DISCONNECTED.
    const disconnected = await net.sql`select 1 from audit_events where resource = 'cp/CP_F4' and details->>'to' = 'DISCONNECTED'`;
    expect(disconnected).toHaveLength(0);
    expect(await net.status("CP_F4")).toBe("ACTIVE");
  }, 180_000);
});
