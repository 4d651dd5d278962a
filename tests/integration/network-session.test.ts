/**
 * The charging network end to end, every role its own OS process, over the real PostgreSQL and
 * Kafka: a driver charges at a CP and stops, and the ticket matches what the engine measured;
 * auto mode runs a file of several CPs (one unknown) and prints one JSON line per ticket or
 * refusal, then exits 0. An eavesdropper reading every topic with its own Kafka client sees no
 * charging figure in clear, only sealed envelopes and signed control messages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SupplyEnded, Telemetry } from "../../src/bus/messages.ts";
import { allTopics } from "../../src/bus/topics.ts";
import { costOf } from "../../src/domain/billing.ts";
import { fieldsOf } from "../support/envelopes.ts";
import { callJson, SERVICE_TOKEN } from "../support/identity.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import { RawKafkaReader } from "../support/raw-kafka.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
let eavesdropper: RawKafkaReader;

beforeAll(async () => {
  await net.start();
  eavesdropper = new RawKafkaReader(net.brokers, `${net.prefix}-eavesdropper`);
  await eavesdropper.start(allTopics(net.topics));
  await net.startCentral();
  await net.startCp("CP_S1", "Madrid");
  await net.startCp("CP_S2", "Sevilla");
}, 240_000);

afterAll(async () => {
  await eavesdropper?.close();
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

describe("an eavesdropper reading every topic with its own Kafka client", () => {
  test("sees no energy, cost, power, price or temperature in clear on any topic, during full sessions and a weather report", async () => {
    // Something on every topic: a charge (requests, answers, progress, ticket, commands, telemetry), and a city's temperature.
    const driver = net.driver("D_EAVES", ["--cp", "CP_S2", "--charge-seconds", "3"]);
    expect(await driver.proc.exited).toBe(0);
    const report = await callJson(net.certs.fetch, "PUT", `${net.apiUrl}/ev/central/city-temperature`, {
      token: SERVICE_TOKEN,
      body: { city: "Sevilla", temperature_c: 31.5 },
    });
    expect(report.status).toBe(200);
    const t = net.topics;
    const seen = () => [t.driverRequests, t.driverUpdates, t.cpEvents, t.cpCommands, t.centralControl].map((topic) => eavesdropper.of(topic).length);
    await waitFor(() => seen().every((n) => n > 0), "messages on every topic", { timeoutMs: 30_000 });
    expect(eavesdropper.of(t.driverUpdates).length).toBeGreaterThanOrEqual(3); // authorised, progress, ticket at least

    // A field name in quotes, or the temperature's digits, in what is readable: the signed control
    // messages, the plaintext probes, an envelope's header. An envelope's ciphertext is random
    // bytes, where a field name (ten letters and more) cannot occur by chance.
    const figures = /"(energy_kwh|cost_eur|power_kw|price_per_kwh|temperature_c)"|31\.5/;
    const fieldNames = /energy_kwh|cost_eur|power_kw|price_per_kwh|temperature_c/;
    const sealed = (r: (typeof eavesdropper.records)[number]) => r.topic !== t.centralControl && !r.headers["evnet-silence-probe"];
    const readable = (r: (typeof eavesdropper.records)[number]) => {
      if (!sealed(r)) return [r.value, JSON.stringify(r.headers), r.topic === t.centralControl ? JSON.parse(r.value).body : ""].join("\n");
      const f = fieldsOf(r.bytes);
      return [f.sub, f.kid, f.sender, JSON.stringify(r.headers)].join("\n");
    };
    const inClear = eavesdropper.records.filter((r) => figures.test(readable(r)) || (sealed(r) && fieldNames.test(r.bytes.toString("latin1"))));
    expect(inClear.map((r) => `${r.topic}: ${r.value.slice(0, 160)}`)).toEqual([]);
    // What is readable is routing: sealed envelopes on the CP and driver topics, signed messages on the control topic.
    for (const r of eavesdropper.records.filter(sealed)) expect(fieldsOf(r.bytes).sub).toMatch(/^(cp|driver):/);
    for (const r of eavesdropper.of(t.centralControl)) expect(JSON.parse(r.value)).toHaveProperty("sig");
  }, 120_000);
});
