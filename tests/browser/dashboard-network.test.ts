/**
 * The dashboard in real headless Chromium against a running network of OS processes — registry,
 * api, central, weather, cp-engine, cp-monitor and a driver — on the real PostgreSQL and Kafka:
 * a CP registers and authenticates, shows ACTIVE, a driver charges (SUPPLYING, figures rising),
 * the CP goes back to ACTIVE, all without reloading; its page charts the charge from the readings
 * Central kept; the history lists it and downloads it as CSV; the map places its city with the
 * weather office's coordinates; sign-in refuses a wrong token; stopping the API shows the
 * "unreachable" banner and starting it again clears it by itself. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { tlsFetch } from "../../src/http/tls-client.ts";
import { type Browser, LAPTOP, launchChromium, PHONE, screenshot } from "../support/browser.ts";
import { type RoleProcess, spawnRole, stopRoles } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const CP = "CP_NET_1";
const DRIVER = "DRIVER_NET_1";
const tokens = {
  EVNET_OPERATOR_TOKEN: "operator-token-for-network-browser-test",
  EVNET_SERVICE_TOKEN: "service-token-for-network-browser-test",
  EVNET_ENROLLMENT_TOKEN: "enrollment-token-for-network-browser-test",
  EVNET_MASTER_KEY: "a-master-key-passphrase-for-network-browser-test",
};

const dir = mkdtempSync(join(tmpdir(), "evnet-network-ui-"));
const certs = join(dir, "certs");
let database: TestDatabase;
let browser: Browser;
let page: Page;
let api: RoleProcess;
const roles: RoleProcess[] = [];
let apiUrl: string;
let common: Record<string, string>;

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

function start(name: string, args: string[], env: Record<string, string> = {}): RoleProcess {
  const role = spawnRole(name, args, { ...common, ...env });
  roles.push(role);
  return role;
}

const apiPort = freePort();
function startApi(): RoleProcess {
  return start("api", ["api", "--port", String(apiPort)], {
    REGISTRY_PUBLIC_KEY: join(certs, "registry-signing-public.pem"),
    EVNET_CONTROL_SIGNING_KEY: join(certs, "control-signing-key.pem"),
    EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN,
    EVNET_OPERATOR_TOKEN: tokens.EVNET_OPERATOR_TOKEN,
    EVNET_SERVICE_TOKEN: tokens.EVNET_SERVICE_TOKEN,
    EVNET_MASTER_KEY: tokens.EVNET_MASTER_KEY,
  });
}

/** Waits like waitFor, and on a timeout tells what the roles were saying: the page alone cannot. */
async function waitShowing(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  try {
    await waitFor(condition, what, { timeoutMs, everyMs: 200 });
  } catch (err) {
    const tails = roles.map((r) => `--- ${r.name}\n${r.lines.slice(-12).join("\n")}`).join("\n");
    throw new Error(`${(err as Error).message}\n${tails}`);
  }
}

const card = () => page.locator(`[data-cp="${CP}"]`);
const stateShown = async () => ((await card().locator(".state").count()) > 0 ? await card().locator(".state").textContent() : null);
const energyShown = async () => Number((await card().locator('[data-field="energy_kwh"]').textContent()) ?? NaN);

beforeAll(async () => {
  database = await createTestDatabase();
  const registryPort = freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  common = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: kafkaBrokers().join(","),
    EVNET_TOPIC_PREFIX: testTopicPrefix(),
    EVNET_DATA_DIR: join(dir, "data"),
    EVNET_CA_FILE: join(certs, "ca.pem"),
    REGISTRY_URL: `https://127.0.0.1:${registryPort}`,
    API_URL: apiUrl,
  };

  const makeCerts = spawnRole("certs", ["certs", "--dir", certs], common);
  expect(await makeCerts.proc.exited).toBe(0);

  start(
    "registry",
    [
      "registry",
      "--port",
      String(registryPort),
      "--tls-cert",
      join(certs, "server.pem"),
      "--tls-key",
      join(certs, "server-key.pem"),
      "--signing-key",
      join(certs, "registry-signing-key.pem"),
    ],
    {
      EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN,
    },
  );
  const trusted = tlsFetch(common.EVNET_CA_FILE);
  await waitFor(async () => (await trusted(`${common.REGISTRY_URL}/ev/registry/health`).catch(() => undefined))?.ok === true, "the registry to answer", {
    timeoutMs: 30_000,
    everyMs: 200,
  });

  api = startApi();
  await api.waitForLine(/listening/, 60_000);
  const central = start("central", ["central"], {
    EVNET_MASTER_KEY: tokens.EVNET_MASTER_KEY,
    EVNET_CONTROL_PUBLIC_KEY: join(certs, "control-signing-public.pem"),
  });
  await central.waitForLine(/central ready/, 60_000);

  writeFileSync(join(dir, "temperatures.json"), JSON.stringify({ Madrid: { temperature_c: 17.5, latitude: 40.4168, longitude: -3.7038 } }));
  start("weather", ["weather", "--api-url", apiUrl, "--offline-file", join(dir, "temperatures.json"), "--interval", "1"], {
    EVNET_SERVICE_TOKEN: tokens.EVNET_SERVICE_TOKEN,
  });

  const enginePort = freePort();
  const engine = start("cp-engine", ["cp-engine", "--id", CP, "--port", String(enginePort), "--power-kw", "22", "--no-menu"]);
  await engine.waitForLine(/engine listening/, 30_000);
  const monitor = start(
    "cp-monitor",
    [
      "cp-monitor",
      "--id",
      CP,
      "--location",
      "Madrid",
      "--engine",
      `127.0.0.1:${enginePort}`,
      "--register",
      "--authenticate",
      "--heartbeat-interval",
      "1",
      "--no-menu",
    ],
    {
      EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN,
    },
  );
  await monitor.waitForLine(/monitor supervising/, 60_000);

  browser = await launchChromium();
  page = await browser.newPage(LAPTOP);
  await page.goto(apiUrl);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopRoles(roles);
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("the dashboard of a running network", () => {
  test("shows the charging point ACTIVE once its monitor has authenticated, with its city's temperature", async () => {
    // Generous: Central's consumer group may take a while to get its partitions on a busy machine.
    await waitShowing(async () => (await stateShown()) === "ACTIVE", `${CP} shown ACTIVE`, 120_000);
    await waitFor(async () => (await card().locator('[data-field="temperature"]').textContent()) === "17.5 °C", "Madrid's temperature shown", {
      timeoutMs: 30_000,
      everyMs: 200,
    });
    for (const service of ["api", "database", "kafka", "registry", "central", "weather"])
      await waitFor(async () => (await page.locator(`[data-service="${service}"]`).getAttribute("class"))?.includes(" up") === true, `${service} shown up`, {
        timeoutMs: 30_000,
        everyMs: 200,
      });
  }, 200_000);

  test("shows a driver's charge: SUPPLYING with figures rising, then ACTIVE again, without reloading", async () => {
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const driver = start("driver", ["driver", "--id", DRIVER, "--cp", CP, "--charge-seconds", "8", "--json"], {
      EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN,
    });

    await waitShowing(async () => (await stateShown()) === "SUPPLYING", `${CP} shown SUPPLYING`, 90_000);
    expect(await card().locator('[data-field="driver"]').textContent()).toBe(DRIVER);
    await waitFor(async () => (await energyShown()) > 0, "energy above zero", { timeoutMs: 30_000, everyMs: 100 });
    const first = await energyShown();
    await waitFor(async () => (await energyShown()) > first, "energy rising", { timeoutMs: 30_000, everyMs: 100 });
    expect(Number(await card().locator('[data-field="power_kw"]').textContent())).toBeGreaterThan(0);
    expect(Number(await card().locator('[data-field="cost_eur"]').textContent())).toBeGreaterThanOrEqual(0);
    await screenshot(page, "dashboard-network-supplying-laptop");
    const phone = await browser.newPage(PHONE);
    await phone.goto(apiUrl);
    await phone.waitForSelector(`[data-cp="${CP}"][data-state="SUPPLYING"]`, { timeout: 15_000 });
    await screenshot(phone, "dashboard-network-supplying-phone");
    await phone.close();

    await waitShowing(async () => (await stateShown()) === "ACTIVE", `${CP} back to ACTIVE`, 120_000);
    expect(await card().locator('[data-field="energy_kwh"]').count()).toBe(0);
    await waitFor(async () => ((await page.locator("#sessions-recent").textContent()) ?? "").includes(DRIVER), "the finished session listed");
    expect(await driver.proc.exited).toBe(0);
    expect(driver.lines.some((l) => l.includes('"type":"ticket"'))).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, "dashboard-network-after-laptop");
  }, 300_000);

  test("shows the charger's page with the charge drawn from the readings Central kept, and its session and audit trail", async () => {
    await page.click(`[data-cp="${CP}"]`);
    await page.waitForSelector("#chart-day canvas");
    // The day's chart: the session's start, the readings Central kept every 5 s, and its end.
    await waitFor(async () => Number(await page.locator("#chart-day").getAttribute("data-points")) >= 3, "the day's readings drawn", { timeoutMs: 15_000 });
    expect(await page.locator('[data-field="protocol"]').textContent()).toContain("evnet");
    expect(await page.locator('[data-field="key_age"]').textContent()).toContain("issued");
    expect(await page.locator('[data-field="coordinates"]').textContent()).toContain("40.417, -3.704");
    expect(await page.locator("#charger").textContent()).toContain(DRIVER);
    expect(await page.locator("#charger").textContent()).toContain("authentication");
    await screenshot(page, "dashboard-network-charger-laptop");
    const phone = await browser.newPage(PHONE);
    await phone.goto(`${apiUrl}/#/cp/${CP}`);
    await phone.waitForSelector("#chart-day canvas");
    await screenshot(phone, "dashboard-network-charger-phone");
    await phone.close();
  }, 60_000);

  test("lists the session in the history and downloads it as CSV", async () => {
    await page.goto(`${apiUrl}/#/history?cp_id=${CP}`);
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–1 of 1", "the session in the history");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#history-csv")]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\r\n");
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(`,${CP},Madrid,${DRIVER},FINISHED,`);
    await screenshot(page, "dashboard-network-history-laptop");
  }, 60_000);

  test("places the charger's city on the map with the weather office's coordinates", async () => {
    await page.goto(`${apiUrl}/#/map`);
    await page.waitForSelector('.city-marker[data-city="Madrid"]', { timeout: 20_000 });
    await screenshot(page, "dashboard-network-map-laptop");
    await page.goto(`${apiUrl}/#/`);
    await page.waitForSelector(`[data-cp="${CP}"]`);
  }, 60_000);

  test("refuses a wrong operator token at sign-in, and accepts the network's", async () => {
    await page.click("#operator-toggle");
    await page.fill("#operator-token", "a-wrong-token-typed-by-someone");
    await page.click("#signin-submit");
    await page.waitForSelector("#signin-error:not([hidden])");
    expect(await page.locator("#signin-error").textContent()).toContain("refused");
    await page.fill("#operator-token", tokens.EVNET_OPERATOR_TOKEN);
    await page.click("#signin-submit");
    await page.waitForSelector("#signin", { state: "hidden" });
    expect(await page.locator("#operator-toggle").getAttribute("aria-pressed")).toBe("true");
    await page.click("#operator-toggle"); // sign out again
  }, 60_000);

  test("says the API is unreachable while it is stopped, and recovers by itself when it is back", async () => {
    await api.stop();
    await page.waitForSelector("#unreachable:not([hidden])", { timeout: 20_000 });
    expect(await page.locator("#unreachable").textContent()).toContain("API unreachable");
    await screenshot(page, "dashboard-network-unreachable-laptop");

    api = startApi();
    await api.waitForLine(/listening/, 60_000);
    await page.waitForSelector("#unreachable[hidden]", { state: "attached", timeout: 20_000 });
    expect(await page.locator("#connection").textContent()).toContain("Live");
    expect(await stateShown()).toBe("ACTIVE");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  }, 120_000);
});
