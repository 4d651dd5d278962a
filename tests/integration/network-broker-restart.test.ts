/**
 * The broker goes away mid-session and comes back (a Kafka of this test's own, so no other
 * test is disturbed). Every role is its own OS process over the real PostgreSQL. The engine
 * keeps supplying and keeps its telemetry until the broker is back; nothing is lost: Central
 * applies every reading, no CP is wrongly disconnected, and the ticket bills all the energy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SupplyEnded, Telemetry } from "../../src/bus/messages.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import { OwnBroker } from "../support/own-broker.ts";
import { waitFor } from "../support/wait.ts";

const broker = new OwnBroker();
let net: TestNetwork;

beforeAll(async () => {
  await broker.up();
  net = new TestNetwork({ brokers: broker.brokers });
  await net.start();
  await net.startCentral("central-k");
  await net.startCp("CP_K1", "Zaragoza");
}, 300_000);

afterAll(async () => {
  await net?.stop();
  await broker.remove();
}, 90_000);

describe("the broker restarts mid-session", () => {
  test("the engine keeps its telemetry until the broker is back, and the ticket has all the energy", async () => {
    const driver = net.driver("D_K1", ["--cp", "CP_K1", "--charge-seconds", "22"]);
    await waitFor(async () => ((await net.openSessionAt("CP_K1"))?.energy_kwh ?? 0) > 0, "the session to be billing", { timeoutMs: 60_000 });
    const sessionId = (await net.openSessionAt("CP_K1"))!.session_id as string;

    await broker.down();
    const downAt = Date.now();
    await Bun.sleep(6000); // the engine supplies on with nowhere to send its readings
    await broker.up();
    const upAt = Date.now();

    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", session_id: sessionId, end_reason: "driver_stop" });

    const readings = await net.engineReadings("CP_K1", sessionId);
    const telemetry = readings.filter((r): r is Telemetry => r.type === "telemetry");
    const ended = readings.find((r): r is SupplyEnded => r.type === "supply_ended");
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    // Readings taken while the broker was down reached Kafka afterwards, in order, none missing.
    const duringOutage = telemetry.filter((t) => Date.parse(t.at) > downAt + 1000 && Date.parse(t.at) < upAt - 1000);
    expect(duringOutage.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < telemetry.length; i++) {
      expect(telemetry[i]!.elapsed_s).toBeGreaterThan(telemetry[i - 1]!.elapsed_s);
      expect(telemetry[i]!.elapsed_s - telemetry[i - 1]!.elapsed_s).toBeLessThan(2);
    }
    expect(await net.session(sessionId)).toMatchObject({ status: "FINISHED", energy_kwh: ticket.energy_kwh, end_reason: "driver_stop" });
    // The outage was no reason to call the CP disconnected.
    const disconnected = await net.sql`select 1 from audit_events where resource = 'cp/CP_K1' and details->>'to' = 'DISCONNECTED'`;
    expect(disconnected).toHaveLength(0);
    await net.waitForStatus("CP_K1", "ACTIVE", 30_000);
  }, 240_000);
});
