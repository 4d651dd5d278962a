/**
 * Faults at the moments that used to cost drivers money, every role its own OS process over the
 * real PostgreSQL and Kafka: Central down when the driver stops, Central killed just after a
 * driver's stop and while a final reading is on its way, an engine restarted mid-session and
 * just after a stop. After each, every ticket is compared with what the engine metered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SupplyEnded } from "../../src/bus/messages.ts";
import { formatAudit, mismatches } from "../support/meter-audit.ts";
import { type ChargingPointProcesses, jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
let central: RoleProcess;
const cps: Record<string, ChargingPointProcesses> = {};
const CP_IDS = ["CP_M1", "CP_M2", "CP_M3", "CP_M4"];
/** CP_M4's monitor beats every 5 s: Central calls it silent after 15 s, longer than its restart takes. */
const SLOW_HEARTBEAT = { MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: "5" };

beforeAll(async () => {
  await net.start();
  central = await net.startCentral("central-m");
  for (const id of CP_IDS) cps[id] = await net.startCp(id, "Murcia", [], id === "CP_M4" ? SLOW_HEARTBEAT : {});
}, 300_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

async function ticket(driver: RoleProcess) {
  expect(await driver.proc.exited).toBe(0);
  const [t] = jsonLines(driver);
  expect(t.type).toBe("ticket");
  return t;
}

async function finalOf(cpId: string, sessionId: string): Promise<SupplyEnded | undefined> {
  return (await net.engineReadings(cpId, sessionId)).find((r): r is SupplyEnded => r.type === "supply_ended");
}

async function restartCentral(): Promise<void> {
  central = await net.startCentral("central-m");
}

describe("Central is away when the driver stops", () => {
  test("the charger stops at once on the driver's request, and the ticket, once Central is back, bills what the driver asked for", async () => {
    const driver = net.driver("D_M1", ["--cp", "CP_M1", "--charge-seconds", "8"]);
    const sessionId = await net.billingSessionAt("CP_M1");
    central.proc.kill("SIGKILL");
    await central.proc.exited;
    let backAt = Date.now();
    try {
      // The driver stops while Central is down: the engine hears it directly, and the driver is told.
      await cps.CP_M1!.engine.waitForLine(/the driver asked to stop/, 30_000);
      await driver.waitForLine(/the charger stops on your request by itself/, 30_000);
    } finally {
      backAt = Date.now();
      await restartCentral();
    }
    const t = await ticket(driver);
    const final = await finalOf("CP_M1", sessionId);
    expect(final).toMatchObject({ reason: "driver_stop" });
    expect(t).toMatchObject({ session_id: sessionId, end_reason: "driver_stop", energy_kwh: final!.energy_kwh, ended_at: final!.ended_at });
    expect(Date.parse(final!.ended_at)).toBeLessThan(backAt); // the supply ended before Central was back
  }, 180_000);
});

describe("Central is killed", () => {
  test("just after a driver's stop: restarted, it bills the engine's final reading at its end time", async () => {
    const driver = net.driver("D_M2", ["--cp", "CP_M2", "--charge-seconds", "5"]);
    const sessionId = await net.billingSessionAt("CP_M2");
    await cps.CP_M2!.engine.waitForLine(/supply ended/, 30_000);
    central.proc.kill("SIGKILL");
    await central.proc.exited;
    await restartCentral();
    const t = await ticket(driver);
    const final = await finalOf("CP_M2", sessionId);
    expect(t).toMatchObject({ session_id: sessionId, end_reason: "driver_stop", energy_kwh: final!.energy_kwh, ended_at: final!.ended_at });
  }, 180_000);

  test("while a final reading is on its way (the car unplugged): restarted, it bills that reading", async () => {
    const driver = net.driver("D_M3", ["--cp", "CP_M3", "--charge-seconds", "600"]);
    const sessionId = await net.billingSessionAt("CP_M3");
    cps.CP_M3!.engine.proc.kill("SIGUSR2"); // unplug: the engine sends its final reading...
    central.proc.kill("SIGKILL"); // ...as Central dies
    await central.proc.exited;
    await restartCentral();
    const t = await ticket(driver);
    const final = await finalOf("CP_M3", sessionId);
    expect(t).toMatchObject({ session_id: sessionId, end_reason: "unplugged", energy_kwh: final!.energy_kwh, ended_at: final!.ended_at });
  }, 180_000);
});

describe("an engine restarts", () => {
  test("mid-session with its monitor, as `evnet up` restarting does: Central closes the session the CP no longer has, with the metered energy, and the CP and the driver are free", async () => {
    const cp = cps.CP_M4!;
    const driver = net.driver("D_M4", ["--cp", "CP_M4", "--charge-seconds", "600"]);
    const sessionId = await net.billingSessionAt("CP_M4");
    // Both go at once and come back before Central could call the CP silent: nobody saw the
    // engine fail, and its monitor's heartbeats resume as if nothing happened.
    cp.monitor.proc.kill("SIGKILL");
    cp.engine.proc.kill("SIGKILL");
    await Promise.all([cp.monitor.proc.exited, cp.engine.proc.exited]);
    cp.engine = await net.startEngine("CP_M4", cp.port);
    cp.monitor = await net.startMonitor("CP_M4", "Murcia", cp.port, SLOW_HEARTBEAT);
    const t = await ticket(driver);
    expect(t).toMatchObject({ session_id: sessionId, end_reason: "supply_lost" });
    await net.waitForStatus("CP_M4", "ACTIVE", 30_000);
    expect((await net.sql`select status from drivers where driver_id = 'D_M4'`)[0]?.status).toBe("IDLE");
    // The same driver charges again there: neither cp_busy nor driver_busy.
    const again = net.driver("D_M4", ["--cp", "CP_M4", "--charge-seconds", "3"]);
    expect(await ticket(again)).toMatchObject({ end_reason: "driver_stop" });
  }, 180_000);

  test("just after a driver's stop: the session ends once, billed from what the engine got out", async () => {
    const cp = cps.CP_M1!;
    const driver = net.driver("D_M5", ["--cp", "CP_M1", "--charge-seconds", "5"]);
    const sessionId = await net.billingSessionAt("CP_M1");
    await cp.engine.waitForLine(new RegExp(`supply ended session_id=${sessionId}`), 30_000);
    cp.engine.proc.kill("SIGKILL");
    await cp.engine.proc.exited;
    cp.engine = await net.startEngine("CP_M1", cp.port);
    const t = await ticket(driver);
    expect(t).toMatchObject({ session_id: sessionId, end_reason: "driver_stop" });
    await net.waitForStatus("CP_M1", "ACTIVE", 30_000);
  }, 180_000);
});

describe("after all of it", () => {
  test("every ticket is what its engine metered: none short, long, stuck or duplicated", async () => {
    await waitFor(async () => (await net.sql`select 1 from charging_sessions where status = 'IN_PROGRESS'`).length === 0, "no session in progress", {
      timeoutMs: 30_000,
    });
    const audit = await net.auditMeters();
    console.log(formatAudit(audit));
    expect(audit.compared).toBe(audit.sessions);
    expect(audit.sessions).toBeGreaterThanOrEqual(6);
    expect(mismatches(audit)).toBe(0);
  }, 60_000);
});
