/**
 * The dashboard in real headless Chromium when Central writes sessions' rows only every 5 s
 * (CENTRAL_READINGS_INTERVAL): a network of OS processes on the real PostgreSQL and Kafka, a
 * driver charging, and the charger's card following its readings second by second from Central's
 * live figures while the session's row in the database changes at most once in that time; the
 * summary's energy in progress follows them too. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type Browser, LAPTOP, launchChromium, screenshot } from "../support/browser.ts";
import { TestNetwork } from "../support/network-processes.ts";
import { waitFor } from "../support/wait.ts";

const CP = "CP_HELD_1";
const DRIVER = "DRIVER_HELD_1";
const HELD_S = 5;

const net = new TestNetwork();
let browser: Browser;
let page: Page;

const card = () => page.locator(`[data-cp="${CP}"]`);
const stateShown = async () => ((await card().locator(".state").count()) > 0 ? await card().locator(".state").textContent() : null);
const energyShown = async () => Number((await card().locator('[data-field="energy_kwh"]').textContent()) ?? Number.NaN);
const tileEnergy = async () => Number.parseFloat((await page.locator('[data-testid="tile-energy"] .value').textContent()) ?? "");
const energyInRow = async () => Number((await net.openSessionAt(CP))?.energy_kwh ?? Number.NaN);

beforeAll(async () => {
  await net.start();
  await net.startCentral("central-held", { CENTRAL_READINGS_INTERVAL: String(HELD_S) });
  await net.startCp(CP, "Madrid", ["--power-kw", "22"]);
  browser = await launchChromium({ trustTestCertificates: true });
  page = await browser.newPage(LAPTOP);
  await page.goto(net.apiUrl);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await net.stop();
}, 60_000);

describe("the dashboard while Central holds readings back from the rows", () => {
  test("follows a charge second by second from Central's live figures", async () => {
    await waitFor(async () => (await stateShown()) === "ACTIVE", `${CP} shown ACTIVE`, { timeoutMs: 120_000, everyMs: 200 });
    net.driver(DRIVER, ["--cp", CP, "--charge-seconds", "30"]);
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
