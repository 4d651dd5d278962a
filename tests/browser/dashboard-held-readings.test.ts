/**
 * The dashboard in real headless Chromium when Central writes sessions' rows only every 5 s
 * (CENTRAL_READINGS_INTERVAL): a network of OS processes on the real PostgreSQL and Kafka, a
 * driver charging, and the charger's card following its readings second by second from Central's
 * live figures while the session's row in the database changes only once in that time.
 * Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import postgres from "postgres";
import { tlsFetch } from "../../src/http/tls-client.ts";
import { type Browser, LAPTOP, launchChromium, screenshot } from "../support/browser.ts";
import { freePort } from "../support/network-processes.ts";
import { type RoleProcess, spawnRole, stopRoles } from "../support/processes.ts";
import { createTestDatabase, kafkaBrokers, type TestDatabase, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

const CP = "CP_HELD_1";
const DRIVER = "DRIVER_HELD_1";
const HELD_S = 5;
const tokens = {
  EVNET_OPERATOR_TOKEN: "operator-token-for-held-browser-test",
  EVNET_SERVICE_TOKEN: "service-token-for-held-browser-test",
  EVNET_ENROLLMENT_TOKEN: "enrollment-token-for-held-browser-test",
  EVNET_MASTER_KEY: "a-master-key-passphrase-for-held-browser-test",
};

const dir = mkdtempSync(join(tmpdir(), "evnet-held-ui-"));
const certs = join(dir, "certs");
let database: TestDatabase;
let sql: postgres.Sql;
let browser: Browser;
let page: Page;
const roles: RoleProcess[] = [];
let common: Record<string, string>;

function start(name: string, args: string[], env: Record<string, string> = {}): RoleProcess {
  const role = spawnRole(name, args, { ...common, ...env });
  roles.push(role);
  return role;
}

const card = () => page.locator(`[data-cp="${CP}"]`);
const stateShown = async () => ((await card().locator(".state").count()) > 0 ? await card().locator(".state").textContent() : null);
const energyShown = async () => Number((await card().locator('[data-field="energy_kwh"]').textContent()) ?? Number.NaN);
const tileEnergy = async () => Number.parseFloat((await page.locator('[data-testid="tile-energy"] .value').textContent()) ?? "");
const energyInRow = async () =>
  Number((await sql`select energy_kwh from charging_sessions where cp_id = ${CP} and status = 'IN_PROGRESS'`)[0]?.energy_kwh ?? Number.NaN);

beforeAll(async () => {
  database = await createTestDatabase();
  sql = postgres(database.url, { max: 1 });
  const [registryPort, apiPort, enginePort] = [await freePort(), await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  common = {
    DATABASE_URL: database.url,
    KAFKA_BROKERS: kafkaBrokers().join(","),
    EVNET_TOPIC_PREFIX: testTopicPrefix(),
    EVNET_DATA_DIR: join(dir, "data"),
    EVNET_CA_FILE: join(certs, "ca.pem"),
    REGISTRY_URL: `https://127.0.0.1:${registryPort}`,
    API_URL: apiUrl,
    EVNET_CONTROL_SIGNING_KEY: join(certs, "control-signing-key.pem"),
    EVNET_CONTROL_PUBLIC_KEY: join(certs, "control-signing-public.pem"),
  };
  expect(await spawnRole("certs", ["certs", "--dir", certs], common).proc.exited).toBe(0);
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
    { EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN },
  );
  const trusted = tlsFetch(common.EVNET_CA_FILE);
  await waitFor(async () => (await trusted(`${common.REGISTRY_URL}/ev/registry/health`).catch(() => undefined))?.ok === true, "the registry to answer", {
    timeoutMs: 30_000,
    everyMs: 200,
  });
  const api = start("api", ["api", "--port", String(apiPort)], { ...tokens, REGISTRY_PUBLIC_KEY: join(certs, "registry-signing-public.pem") });
  await api.waitForLine(/listening/, 60_000);
  const central = start("central", ["central", "--no-menu"], { EVNET_MASTER_KEY: tokens.EVNET_MASTER_KEY, CENTRAL_READINGS_INTERVAL: String(HELD_S) });
  await central.waitForLine(/central ready/, 60_000);
  const engine = start("cp-engine", ["cp-engine", "--id", CP, "--port", String(enginePort), "--power-kw", "22", "--no-menu"]);
  await engine.waitForLine(/engine listening/, 30_000);
  const monitor = start(
    "cp-monitor",
    ["cp-monitor", "--id", CP, "--location", "Madrid", "--engine", `127.0.0.1:${enginePort}`, "--register", "--authenticate", "--no-menu"],
    { EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN },
  );
  await monitor.waitForLine(/monitor supervising/, 60_000);
  browser = await launchChromium();
  page = await browser.newPage(LAPTOP);
  await page.goto(apiUrl);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stopRoles(roles);
  await sql?.end();
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("the dashboard while Central holds readings back from the rows", () => {
  test("follows a charge second by second from Central's live figures", async () => {
    await waitFor(async () => (await stateShown()) === "ACTIVE", `${CP} shown ACTIVE`, { timeoutMs: 120_000, everyMs: 200 });
    start("driver", ["driver", "--id", DRIVER, "--cp", CP, "--charge-seconds", "30", "--json"], { EVNET_ENROLLMENT_TOKEN: tokens.EVNET_ENROLLMENT_TOKEN });
    await waitFor(async () => (await stateShown()) === "SUPPLYING" && (await energyShown()) > 0, `${CP} shown SUPPLYING with energy`, {
      timeoutMs: 90_000,
      everyMs: 200,
    });
    // For 4 s (less than the interval the row waits): what the card shows, and what the row holds.
    const shown = new Set<number>();
    const inRow = new Set<number>();
    for (const until = Date.now() + 4_000; Date.now() < until; await Bun.sleep(200)) {
      shown.add(await energyShown());
      inRow.add(await energyInRow());
    }
    // Readings come every second: the card took at least three of them, the row at most two values.
    expect(shown.size).toBeGreaterThanOrEqual(3);
    expect(inRow.size).toBeLessThanOrEqual(2);
    expect(Math.max(...shown)).toBeGreaterThan(Math.max(...inRow));
    // The summary's energy in progress follows the same figures, ahead of the row.
    await waitFor(async () => (await tileEnergy()) > (await energyInRow()), "the summary's energy in progress ahead of the row", {
      timeoutMs: 5_000,
      everyMs: 100,
    });
    await screenshot(page, "dashboard-held-readings-supplying-laptop");
  }, 200_000);
});
