/**
 * The charging network end to end, every role its own OS process, over the real PostgreSQL and
 * Kafka: a driver charges at a CP and stops, and the ticket matches what the engine measured;
 * auto mode runs a file of several CPs (one unknown) and prints one JSON line per ticket or
 * refusal, then exits 0.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SupplyEnded, Telemetry } from "../../src/bus/messages.ts";
import { costOf } from "../../src/domain/billing.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";

const net = new TestNetwork();

beforeAll(async () => {
  await net.start();
  await net.startCentral();
  await net.startCp("CP_S1", "Madrid");
  await net.startCp("CP_S2", "Sevilla");
}, 240_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

describe("a driver's charge", () => {
  test("is authorised, supplied with telemetry, stopped by the driver, and billed as the engine measured", async () => {
    const driver = net.driver("D_S1", ["--cp", "CP_S1", "--charge-seconds", "4"]);
    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", cp_id: "CP_S1", driver_id: "D_S1", end_reason: "driver_stop" });

    const readings = await net.engineReadings("CP_S1", ticket.session_id);
    const telemetry = readings.filter((r): r is Telemetry => r.type === "telemetry");
    const final = readings.find((r): r is SupplyEnded => r.type === "supply_ended");
    expect(telemetry.length).toBeGreaterThanOrEqual(3);
    expect(final).toBeDefined();
    expect(ticket.energy_kwh).toBe(final!.energy_kwh);
    expect(ticket.energy_kwh).toBeGreaterThanOrEqual(telemetry.at(-1)!.energy_kwh);
    expect(ticket.cost_eur).toBe(costOf(ticket.energy_kwh, ticket.price_per_kwh));
    expect(ticket.cost_eur).toBe(final!.cost_eur);
    // Every reading the engine streamed was billed at the session's price.
    for (const t of telemetry) expect(t.cost_eur).toBe(costOf(t.energy_kwh, ticket.price_per_kwh));

    const row = await net.session(ticket.session_id);
    expect(row).toMatchObject({ status: "FINISHED", energy_kwh: ticket.energy_kwh, cost_eur: ticket.cost_eur, end_reason: "driver_stop" });
    expect(await net.status("CP_S1")).toBe("ACTIVE");
    // The driver saw live progress while charging (on stderr in --json mode).
    expect(driver.lines.some((l) => l.startsWith("CP_S1 [") && l.includes("kWh"))).toBe(true);
  }, 120_000);
});

describe("auto mode", () => {
  test("charges at each CP of the file in turn, refuses the unknown one with its reason, and exits 0", async () => {
    const file = join(net.dataDir, "cps.txt");
    writeFileSync(file, "# CPs to visit\nCP_S1\nCP_NOWHERE\nCP_S2\n");
    const driver = net.driver("D_AUTO", ["--file", file, "--charge-seconds", "3"]);
    expect(await driver.proc.exited).toBe(0);
    const lines = jsonLines(driver);
    expect(lines.map((l) => [l.type, l.cp_id])).toEqual([
      ["ticket", "CP_S1"],
      ["refused", "CP_NOWHERE"],
      ["ticket", "CP_S2"],
    ]);
    expect(lines[1]).toMatchObject({ code: "unknown_cp" });
    for (const t of [lines[0], lines[2]]) {
      expect(t.energy_kwh).toBeGreaterThan(0);
      expect(t.cost_eur).toBe(costOf(t.energy_kwh, t.price_per_kwh));
      expect(await net.session(t.session_id)).toMatchObject({ status: "FINISHED", energy_kwh: t.energy_kwh });
    }
    const refusals = await net.sql`select reason from audit_events where event_type = 'request' and outcome = 'failure' and actor_id = 'D_AUTO'`;
    expect(refusals.map((r) => r.reason)).toEqual([expect.stringMatching(/^unknown_cp/)]);
  }, 120_000);
});
