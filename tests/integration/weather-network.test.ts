/**
 * Frost end to end, every role its own OS process over the real PostgreSQL and Kafka: two CPs
 * in Oslo, a driver charging at one of them, and the weather office reading Oslo's temperature
 * from its offline file. When Oslo goes below zero the idle CP goes out of service at once, the
 * supplying one finishes its session with a correct ticket and then goes out of service; when
 * Oslo warms up both are ACTIVE again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SupplyEnded } from "../../src/bus/messages.ts";
import { costOf } from "../../src/domain/billing.ts";
import { setOfflineTemperature } from "../../src/roles/weather/providers/offline.ts";
import { SERVICE_TOKEN } from "../support/identity.ts";
import { jsonLines, TestNetwork } from "../support/network-processes.ts";
import type { RoleProcess } from "../support/processes.ts";
import { waitFor } from "../support/wait.ts";

const net = new TestNetwork();
let weather: RoleProcess;
let central: RoleProcess;
let temperatures: string;

/** A consumer group of its own, so Centrals of other test networks on the broker do not join it. */
const centralGroup = () => ({ EVNET_CENTRAL_GROUP: `${net.prefix}-central` });

const osloWeather = async () =>
  (await net.sql<{ temperature_c: number; alert: boolean }[]>`select temperature_c, alert from city_weather where city = 'Oslo'`)[0];

beforeAll(async () => {
  await net.start();
  // A consumer group of its own, so Centrals of other test networks on the broker do not join it.
  central = await net.startCentral("central-1", centralGroup());
  await net.startCp("CP_OSL_1", "Oslo");
  await net.startCp("CP_OSL_2", "Oslo");
  temperatures = join(net.dataDir, "temperatures.json");
  setOfflineTemperature(temperatures, "Oslo", 5);
  weather = net.spawn("weather", ["weather"], {
    API_URL: net.apiUrl,
    EVNET_CA_FILE: net.certs.caFile,
    EVNET_SERVICE_TOKEN: SERVICE_TOKEN,
    WEATHER_OFFLINE_FILE: temperatures,
    WEATHER_CHECK_INTERVAL: "1",
    LOCATION_RELOAD_INTERVAL: "1",
    EVNET_DATA_DIR: net.dataDir,
  });
  await weather.waitForLine(/temperature city=Oslo temperature_c=5/, 60_000);
  await waitFor(async () => (await osloWeather())?.temperature_c === 5, "Oslo's first temperature at Central", { timeoutMs: 30_000 });
}, 300_000);

afterAll(async () => {
  await net.stop();
}, 60_000);

describe("a frost alert in a CP's city", () => {
  test("takes the idle CP out of service at once, lets the supplying one finish with a correct ticket, then takes it out", async () => {
    const driver = net.driver("D_FROST", ["--cp", "CP_OSL_1", "--charge-seconds", "15"]);
    await net.waitForStatus("CP_OSL_1", "SUPPLYING");
    expect(await net.status("CP_OSL_2")).toBe("ACTIVE");

    setOfflineTemperature(temperatures, "Oslo", -3);
    await net.waitForStatus("CP_OSL_2", "OUT_OF_SERVICE", 30_000);
    expect(await osloWeather()).toEqual({ temperature_c: -3, alert: true });
    // The charge in progress is not cut short by the weather.
    expect(await net.status("CP_OSL_1")).toBe("SUPPLYING");
    expect(await net.openSessionAt("CP_OSL_1")).toBeDefined();

    expect(await driver.proc.exited).toBe(0);
    const [ticket] = jsonLines(driver);
    expect(ticket).toMatchObject({ type: "ticket", cp_id: "CP_OSL_1", driver_id: "D_FROST", end_reason: "driver_stop" });
    expect(ticket.energy_kwh).toBeGreaterThan(0);
    expect(ticket.cost_eur).toBe(costOf(ticket.energy_kwh, ticket.price_per_kwh));
    const ended = (await net.engineReadings("CP_OSL_1", ticket.session_id)).find((r): r is SupplyEnded => r.type === "supply_ended");
    expect(ended).toBeDefined();
    expect(ticket.energy_kwh).toBe(ended!.energy_kwh);
    expect(await net.session(ticket.session_id)).toMatchObject({ status: "FINISHED", energy_kwh: ticket.energy_kwh, cost_eur: ticket.cost_eur });

    await net.waitForStatus("CP_OSL_1", "OUT_OF_SERVICE", 30_000);
  }, 180_000);

  test("refuses a driver at a CP that is out of service, saying why", async () => {
    const driver = net.driver("D_COLD", ["--cp", "CP_OSL_2", "--charge-seconds", "2"]);
    await driver.proc.exited;
    expect(jsonLines(driver)).toContainEqual(expect.objectContaining({ type: "refused", cp_id: "CP_OSL_2", code: "cp_out_of_service" }));
  }, 120_000);

  test("is stored and audited, and the CPs' state changes are audited with the weather as their reason", async () => {
    const alerts = await net.sql`select action from audit_events where event_type = 'weather' and resource = 'city/Oslo' order by id`;
    expect(alerts.map((a) => a.action)).toContain("alert_started");
    for (const cp of ["CP_OSL_1", "CP_OSL_2"]) {
      const changes = await net.sql`
        select reason, details->>'to' as to, details->>'state_reason' as state_reason
          from audit_events where event_type = 'state_change' and resource = ${`cp/${cp}`} order by id`;
      const outOfService = changes.filter((c) => c.to === "OUT_OF_SERVICE");
      expect(outOfService).toHaveLength(1);
      expect(`${outOfService[0]!.reason} ${outOfService[0]!.state_reason}`).toMatch(/weather alert/);
    }
    const res = await net.certs.fetch(`${net.apiUrl}/ev/central/city-temperature/Oslo`);
    expect(await res.json()).toMatchObject({ city: "Oslo", temperature_c: -3, alert: true });
  });
});

describe("when the city warms up", () => {
  test("both CPs return to ACTIVE and the alert is cancelled", async () => {
    setOfflineTemperature(temperatures, "Oslo", 4);
    await net.waitForStatus("CP_OSL_1", "ACTIVE", 30_000);
    await net.waitForStatus("CP_OSL_2", "ACTIVE", 30_000);
    expect(await osloWeather()).toEqual({ temperature_c: 4, alert: false });
    const alerts = await net.sql`select action from audit_events where event_type = 'weather' and resource = 'city/Oslo' order by id`;
    expect(alerts.map((a) => a.action)).toEqual(["alert_started", "alert_cancelled"]);
  }, 60_000);

  test("a driver can charge there again", async () => {
    const driver = net.driver("D_WARM", ["--cp", "CP_OSL_2", "--charge-seconds", "2"]);
    expect(await driver.proc.exited).toBe(0);
    expect(jsonLines(driver)[0]).toMatchObject({ type: "ticket", cp_id: "CP_OSL_2" });
  }, 120_000);
});

describe("an alert that arrives while Central is down", () => {
  test("is not lost: Central applies it when it is back", async () => {
    await central.stop();
    setOfflineTemperature(temperatures, "Oslo", -2);
    await waitFor(async () => (await osloWeather())?.alert === true, "the API to store Oslo's new alert", { timeoutMs: 30_000 });
    expect(await net.status("CP_OSL_2")).toBe("ACTIVE"); // nobody has applied it yet

    central = await net.startCentral("central-2", centralGroup());
    await net.waitForStatus("CP_OSL_1", "OUT_OF_SERVICE", 60_000);
    await net.waitForStatus("CP_OSL_2", "OUT_OF_SERVICE", 60_000);
  }, 120_000);
});
