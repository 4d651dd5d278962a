/**
 * The dashboard in real headless Chromium, fed by an API on a real PostgreSQL whose rows this
 * test writes as Central would: states as colour and text, live figures without reloading, and
 * a clear "API unreachable" banner that clears by itself when the API is back.
 * (tests/browser/dashboard-network.test.ts runs the same page against a running network.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { loadConfig } from "../../src/config/env.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { beat } from "../../src/db/repos/heartbeats.ts";
import { auditEvents } from "../../src/db/schema/index.ts";
import { apiConfigSchema } from "../../src/roles/api/config.ts";
import { start } from "../../src/roles/api/index.ts";
import { type Browser, LAPTOP, launchChromium, PHONE, screenshot } from "../support/browser.ts";
import { controlKeyEnv } from "../support/control.ts";
import { applyTelemetry, finishSession, seedAudit, seedChargingPoint, seedDriver, seedSession, seedWeather, setCpState } from "../support/seed.ts";
import { createTestDatabase, type TestDatabase } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

let testDb: TestDatabase;
let seed: Database;
let api: { url: string; stop(): Promise<void> } | undefined;
let browser: Browser;
let page: Page;
let port: number;
const OPERATOR_TOKEN = "operator-token-for-browser-tests";

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const p = probe.port!;
  probe.stop(true);
  return p;
}

async function startApi() {
  const config = loadConfig(
    apiConfigSchema,
    {},
    {
      DATABASE_URL: testDb.url,
      API_PORT: String(port),
      EVNET_OPERATOR_TOKEN: OPERATOR_TOKEN,
      EVNET_SERVICE_TOKEN: "service-token-for-browser-tests",
      EVNET_MASTER_KEY: "a-master-key-passphrase-for-browser-tests",
      ...controlKeyEnv(),
    },
  );
  api = await start(config);
}

const card = (cpId: string) => page.locator(`[data-cp="${cpId}"]`);
const figure = async (cpId: string, field: string) => Number(await card(cpId).locator(`[data-field="${field}"]`).textContent());

beforeAll(async () => {
  testDb = await createTestDatabase();
  seed = await openDatabase({ url: testDb.url, maxConnections: 2 });
  port = freePort();
  await startApi();
  const db = seed.db;
  await seedChargingPoint(db, { cpId: "CP_001", location: "Madrid", pricePerKwh: 0.35, status: "ACTIVE", lastConnectionTime: new Date() });
  await seedChargingPoint(db, {
    cpId: "CP_002",
    location: "Oslo",
    status: "OUT_OF_SERVICE",
    statusReason: "weather alert: temperature below the critical threshold",
  });
  await seedChargingPoint(db, { cpId: "CP_003", location: "Valencia", status: "BROKEN", statusReason: "engine reports KO" });
  await seedChargingPoint(db, { cpId: "CP_004", location: "Madrid", status: "STOPPED", statusReason: "stopped by operator" });
  await seedChargingPoint(db, { cpId: "CP_005", location: "Sevilla", status: "DISCONNECTED", statusReason: "no heartbeat for 3 intervals" });
  await seedWeather(db, "Madrid", 14.5);
  await seedWeather(db, "Oslo", -6.2);
  await seedWeather(db, "Valencia", 19);
  await seedDriver(db, "DRIVER_001");
  await seedDriver(db, "DRIVER_002");
  await seedSession(db, {
    sessionId: "S-earlier",
    cpId: "CP_004",
    driverId: "DRIVER_002",
    status: "FINISHED",
    energyKwh: 12.4,
    costEur: 3.72,
    startedAt: new Date(Date.now() - 3_600_000),
    endedAt: new Date(Date.now() - 2_400_000),
    endReason: "driver_stop",
  });
  await seedAudit(db, {
    eventType: "authentication",
    actorType: "cp",
    actorId: "CP_001",
    action: "authenticate",
    resource: "CP_001",
    sourceAddress: "127.0.0.1",
  });
  await seedAudit(db, {
    eventType: "security",
    actorType: "cp",
    actorId: "CP_003",
    action: "open_message",
    resource: "CP_003",
    outcome: "failure",
    reason: "tampered: authentication tag mismatch",
  });
  await beat(db, { service: "central", instance: "central-1" });
  browser = await launchChromium();
  page = await browser.newPage(LAPTOP);
  await page.goto(api!.url);
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await seed?.close();
  await testDb?.drop();
});

describe("the dashboard", () => {
  test("shows each charging point's state as colour and text, with its location and temperature", async () => {
    await page.waitForSelector('[data-cp="CP_001"]');
    expect(await card("CP_001").locator(".state").textContent()).toBe("ACTIVE");
    expect(await card("CP_002").locator(".state").textContent()).toBe("OUT OF SERVICE");
    expect(await card("CP_003").locator(".state").textContent()).toBe("BROKEN");
    const active = await card("CP_001")
      .locator(".state")
      .evaluate((el) => getComputedStyle(el).color);
    const broken = await card("CP_003")
      .locator(".state")
      .evaluate((el) => getComputedStyle(el).color);
    expect(active).not.toBe(broken);
    expect(await card("CP_001").textContent()).toContain("Madrid");
    expect(await card("CP_001").locator('[data-field="temperature"]').textContent()).toBe("14.5 °C");
    expect(await card("CP_002").textContent()).toContain("frost");
  });

  test("shows services, weather alerts, alerts raised by the system and recent audit events", async () => {
    expect(await page.locator('[data-service="database"]').textContent()).toContain("up");
    expect(await page.locator('[data-service="central"]').textContent()).toContain("up");
    expect(await page.locator("#weather").textContent()).toContain("FROST ALERT");
    const alerts = await page.locator("#alerts").textContent();
    expect(alerts).toContain("Frost alert in Oslo");
    expect(alerts).toContain("1 broken");
    expect(alerts).toContain("tampered: authentication tag mismatch");
    expect(await page.locator("#audit").textContent()).toContain("authentication");
  });

  test("shows a charging point start supplying with its figures rising, then go back, without reloading", async () => {
    // A marker on the window survives only if the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const db = seed.db;
    await seedSession(db, { sessionId: "S-live", cpId: "CP_001", driverId: "DRIVER_001", pricePerKwh: 0.35 });
    await setCpState(db, "CP_001", "SUPPLYING", "session S-live");
    await waitFor(async () => (await card("CP_001").locator(".state").textContent()) === "SUPPLYING", "CP_001 shown SUPPLYING", { timeoutMs: 10_000 });

    let energy = 0;
    for (let second = 1; second <= 3; second++) {
      energy = second * 0.0031;
      await applyTelemetry(db, "S-live", { powerKw: 11, energyKwh: energy, costEur: energy * 0.35 });
      const shown = energy;
      await waitFor(async () => (await figure("CP_001", "energy_kwh")) >= Number(shown.toFixed(3)), `energy ${shown} shown`, { timeoutMs: 10_000 });
    }
    expect(await figure("CP_001", "power_kw")).toBe(11);
    expect(await card("CP_001").locator('[data-field="driver"]').textContent()).toBe("DRIVER_001");
    await screenshot(page, "dashboard-db-supplying-laptop");

    const phone = await browser.newPage(PHONE);
    await phone.goto(api!.url);
    await phone.waitForSelector('[data-cp="CP_001"][data-state="SUPPLYING"]');
    await screenshot(phone, "dashboard-db-supplying-phone");
    await phone.close();

    await finishSession(db, "S-live");
    await setCpState(db, "CP_001", "ACTIVE");
    await waitFor(async () => (await card("CP_001").locator(".state").textContent()) === "ACTIVE", "CP_001 back to ACTIVE", { timeoutMs: 10_000 });
    expect(await card("CP_001").locator('[data-field="energy_kwh"]').count()).toBe(0);
    expect(await page.locator("#sessions-recent").textContent()).toContain("DRIVER_001");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  test("signs an operator in only with the right token, and hands a confirmed action to the API", async () => {
    await page.goto(`${api!.url}/#/cp/CP_004`);
    await page.waitForSelector("#charger-id");
    expect(await page.locator("#charger button[data-action]").count()).toBe(0);
    await page.click("#operator-toggle");
    await page.fill("#operator-token", "not-the-operator-token");
    await page.click("#signin-submit");
    await page.waitForSelector("#signin-error:not([hidden])");
    expect(await page.locator("#signin-error").textContent()).toContain("refused");
    await screenshot(page, "dashboard-db-signin-refused-laptop");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0); // a refused token is not kept

    await page.fill("#operator-token", OPERATOR_TOKEN);
    await page.click("#signin-submit");
    await page.waitForSelector("#signin", { state: "hidden" });
    expect(await page.locator("#operator-toggle").textContent()).toContain("Operator");
    await page.locator('#charger button[data-action="resume"]').click();
    await page.waitForSelector("#confirm[open]");
    expect(await page.locator("#confirm-text").textContent()).toContain("CP_004");
    await screenshot(page, "dashboard-db-confirm-laptop");
    await page.click("#confirm-ok");
    await waitFor(async () => ((await page.locator("#toast:not(.error)").textContent()) ?? "").includes("CP_004"), "the API's answer shown");
    await waitFor(async () => (await seed.db.select().from(auditEvents).where(eq(auditEvents.action, "resume_cp"))).length === 1, "the resume audited");

    // Cancelling asks nothing of the API.
    await page.locator('#charger button[data-action="revoke-key"]').click();
    await page.click('#confirm button[value="cancel"]');
    await page.waitForTimeout(300);
    expect((await seed.db.select().from(auditEvents).where(eq(auditEvents.eventType, "revocation"))).length).toBe(0);

    await page.click("#operator-toggle"); // signs out
    await page.waitForFunction(() => document.querySelectorAll("#charger button[data-action]").length === 0);
    await page.goto(`${api!.url}/#/`); // the same page, another view: not a reload
    await page.waitForSelector('[data-cp="CP_001"]');
  });

  test("says the API is unreachable while it is down, and recovers by itself when it is back", async () => {
    await api!.stop();
    api = undefined;
    await page.waitForSelector("#unreachable:not([hidden])", { timeout: 15_000 });
    expect(await page.locator("#unreachable").textContent()).toContain("API unreachable");
    expect(await page.locator("#connection").textContent()).toContain("Offline");
    expect(await page.locator('[data-service="api"]').textContent()).toContain("not reachable");
    await screenshot(page, "dashboard-db-unreachable-laptop");

    await startApi();
    await page.waitForSelector("#unreachable[hidden]", { state: "attached", timeout: 15_000 });
    expect(await page.locator("#connection").textContent()).toContain("Live");
    await waitFor(async () => (await page.locator('[data-service="api"]').getAttribute("class"))?.includes(" up") === true, "the API shown up again");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });
});
