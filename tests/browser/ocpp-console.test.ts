/**
 * OCPP chargers in the operator's console, in real headless Chromium, against a running network
 * (Registry, API, Central and `evnet ocpp` as processes on the real PostgreSQL and Kafka) with
 * chargers written from the OCPP-J specification: one 1.6 charger connected, one 2.0.1 charger
 * that booted and went away, one registered that never connected. The charger list shows each
 * one's OCPP version, maker and connection, and filters by protocol; a charger's page shows what
 * it said at boot, its security profile and where and since when it is connected. Screenshots go
 * to test-results/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { type Browser, LAPTOP, launchChromium, PHONE, screenshot } from "../support/browser.ts";
import { OcppNetwork } from "../support/ocpp-network.ts";
import { RawCharger } from "../support/ocpp-raw.ts";
import { waitFor } from "../support/wait.ts";

const ON_16 = "OCPP_WEB_16";
const AWAY_201 = "OCPP_WEB_201";
const NEVER = "OCPP_WEB_NEW";
const net = new OcppNetwork();
let browser: Browser;
let page: Page;
let charger16: RawCharger;
const pageErrors: string[] = [];

const card = (id: string) => page.locator(`#cps [data-cp="${id}"]`);
const cardIds = () => page.locator("#cps [data-cp]").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.cp));
const field = (id: string, name: string) => card(id).locator(`[data-field="${name}"]`).textContent();
const fact = (name: string) => page.locator(`#charger [data-field="${name}"]`).textContent();

beforeAll(async () => {
  await net.startAll();
  const password16 = await net.registerCharger(ON_16, { location: "Madrid" });
  const password201 = await net.registerCharger(AWAY_201, { location: "Valencia" });
  await net.registerCharger(NEVER, { location: "Sevilla" });

  charger16 = await RawCharger.connect(net.gatewayUrl, ON_16, { protocols: ["ocpp1.6"], password: password16 });
  charger16.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  await charger16.call("BootNotification", {
    chargePointVendor: "ACME",
    chargePointModel: "Wallbox 22",
    chargePointSerialNumber: "SN-1",
    firmwareVersion: "1.2.3",
  });
  await charger16.call("StatusNotification", { connectorId: 1, errorCode: "NoError", status: "Available" });

  const charger201 = await RawCharger.connect(net.gatewayUrl, AWAY_201, { protocols: ["ocpp2.0.1"], password: password201 });
  charger201.answers.set("ChangeAvailability", () => ({ status: "Accepted" }));
  await charger201.call("BootNotification", {
    reason: "PowerUp",
    chargingStation: { vendorName: "Volt", model: "DC-50", serialNumber: "V-9", firmwareVersion: "2.0.1-rc" },
  });
  await charger201.call("StatusNotification", { timestamp: new Date().toISOString(), connectorStatus: "Available", evseId: 1, connectorId: 1 });
  await net.waitForStatus(ON_16, "ACTIVE");
  await net.waitForStatus(AWAY_201, "ACTIVE");
  await waitFor(async () => (await net.cpRow(AWAY_201))?.model === "DC-50", "the 2.0.1 charger's boot info");
  charger201.close();
  await waitFor(
    async () => (await net.sql`select connection from ocpp_chargers where cp_id = ${AWAY_201}`)[0]?.connection === "offline",
    "the gateway to record the 2.0.1 charger's socket closed",
  );

  browser = await launchChromium({ trustTestCertificates: true });
  page = await browser.newPage(LAPTOP);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
}, 240_000);

afterAll(async () => {
  charger16?.close();
  await browser?.close();
  await net.stop();
});

describe("OCPP chargers in the console", () => {
  test("the charger list shows each OCPP charger's version, maker and connection", async () => {
    await page.goto(net.apiUrl);
    await page.waitForSelector(`#cps [data-cp="${NEVER}"]`);
    expect((await cardIds()).sort()).toEqual([AWAY_201, ON_16, NEVER].sort());
    await waitFor(async () => (await field(ON_16, "connection_state")) === "connected", "the 1.6 charger's card to say connected");
    expect(await field(ON_16, "protocol")).toBe("OCPP 1.6");
    expect(await card(ON_16).locator('[data-field="ocpp"]').textContent()).toContain("ACME Wallbox 22");
    expect(await field(AWAY_201, "protocol")).toBe("OCPP 2.0.1");
    expect(await card(AWAY_201).locator('[data-field="ocpp"]').textContent()).toContain("Volt DC-50");
    expect(await field(AWAY_201, "connection_state")).toBe("not connected");
    // Central's reason names the gateway, not a monitor (an OCPP charger has none).
    await waitFor(
      async () => ((await card(AWAY_201).locator(".cp-reason").textContent()) ?? "").includes("no word from it through a gateway"),
      "the away charger's reason",
    );
    expect(await field(NEVER, "protocol")).toBe("OCPP");
    expect(await field(NEVER, "connection_state")).toBe("never connected");
    await screenshot(page, "ocpp-fleet");
  });

  test("the protocol filter keeps one version, is kept in the URL, and the API refuses a protocol it does not know", async () => {
    await page.selectOption("#fleet-protocol", "ocpp2.0.1");
    await waitFor(async () => JSON.stringify(await cardIds()) === JSON.stringify([AWAY_201]), "only the 2.0.1 charger to be listed");
    expect(page.url()).toContain("protocol=ocpp2.0.1");
    await page.selectOption("#fleet-protocol", "evnet");
    await page.waitForSelector("#cps .empty");
    expect(await page.locator("#cps .empty").textContent()).toContain("No charger matches this search");
    await page.reload();
    await page.waitForSelector("#cps .empty");
    expect(await page.locator("#fleet-protocol").inputValue()).toBe("evnet");
    await page.click("#fleet-clear");
    await waitFor(async () => (await cardIds()).length === 3, "all three chargers after clearing the filters");

    const bad = await page.evaluate(async () => {
      const r = await fetch("/ev/central/fleet?protocol=ocpp1.5");
      return { status: r.status, body: await r.text() };
    });
    expect(bad.status).toBe(422);
    expect(bad.body).toContain("protocol must be one of evnet, ocpp, ocpp1.6, ocpp2.0.1");
  });

  test("a connected charger's page shows what it said at boot, its profile, and its gateway", async () => {
    await page.goto(`${net.apiUrl}/#/cp/${ON_16}`);
    await page.waitForSelector('#charger [data-field="connection_state"]');
    expect(await fact("protocol")).toContain("ocpp1.6");
    expect(await fact("protocol")).toContain("OCPP 1.6J over WebSocket");
    expect(await fact("connection_state")).toMatch(/^connected since .+ to gateway gateway-1$/);
    expect(await fact("security_profile")).toBe("1 (password, plain WebSocket)");
    expect(await fact("maker")).toBe("ACME Wallbox 22");
    expect(await fact("serial_number")).toBe("SN-1");
    expect(await fact("firmware_version")).toBe("1.2.3");
    await screenshot(page, "ocpp-charger-connected");
  });

  test("a charger that went away says since when, and one that never connected says so, on a phone too", async () => {
    const phone = await browser.newPage(PHONE);
    try {
      await phone.goto(`${net.apiUrl}/#/cp/${AWAY_201}`);
      await phone.waitForSelector('#charger [data-field="connection_state"]');
      const away = (name: string) => phone.locator(`#charger [data-field="${name}"]`).textContent();
      expect(await away("connection_state")).toMatch(/^not connected since .+ \(last on gateway gateway-1\)$/);
      expect(await away("protocol")).toContain("ocpp2.0.1");
      expect(await away("maker")).toBe("Volt DC-50");
      expect(await away("firmware_version")).toBe("2.0.1-rc");
      await screenshot(phone, "ocpp-charger-away-phone");

      await phone.goto(`${net.apiUrl}/#/cp/${NEVER}`);
      await waitFor(async () => (await phone.locator("#charger-id").textContent()) === NEVER, "the never-connected charger's page");
      expect(await away("connection_state")).toBe("never connected");
      expect(await away("maker")).toBe("not booted yet");
      expect(await away("serial_number")).toBe("not given");
    } finally {
      await phone.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
