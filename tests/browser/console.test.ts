/**
 * The operator's console in real headless Chromium over a network of 10,000 chargers seeded in a
 * real PostgreSQL: searching by id and city, filtering by state, sorting and paging (one page on
 * screen, never the whole network); a charger's page from a click and from a URL, with its
 * charts drawn from kept readings; the session history's filters, totals and CSV download; the
 * audit log on a phone; the map; and the paths that must fail: bad filters, unknown chargers,
 * empty results. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { startTestApi, type TestApi } from "../support/api-server.ts";
import { type Browser, LAPTOP, launchChromium, PHONE, screenshot } from "../support/browser.ts";
import { seedFleet } from "../support/fleet-seed.ts";
import { seedAudit, seedDriver, seedSession } from "../support/seed.ts";
import { waitFor } from "../support/wait.ts";

const CHARGERS = 10_000;
let api: TestApi;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const cards = () => page.locator("#cps [data-cp]");
const cardIds = async () => page.locator("#cps [data-cp]").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.cp));
const countText = async () => (await page.locator("#fleet-count").textContent()) ?? "";

beforeAll(async () => {
  api = await startTestApi();
  const db = api.seed.db;
  await seedFleet(db, CHARGERS);
  // History to search: finished sessions at CP_00001 (Madrid) and CP_00002 (Barcelona).
  await seedDriver(db, "DRIVER_HIST");
  const hour = 3_600_000;
  for (let i = 0; i < 3; i++)
    await seedSession(db, {
      sessionId: `S-hist-${i}`,
      cpId: i === 2 ? "CP_00002" : "CP_00001",
      driverId: "DRIVER_HIST",
      status: "FINISHED",
      energyKwh: 10 + i,
      costEur: 3 + i,
      startedAt: new Date(Date.now() - (i + 2) * hour),
      endedAt: new Date(Date.now() - (i + 2) * hour + 1_800_000),
      endReason: i === 1 ? "unplugged" : "driver_stop",
    });
  // Readings Central kept for CP_00010's session in progress (S-CP_00010, started 10 minutes ago).
  await db.execute(sql`
    insert into session_samples (session_id, cp_id, at, power_kw, energy_kwh)
    select 'S-CP_00010', 'CP_00010', now() - make_interval(secs => 600 - g * 5), 11 + (g % 3), g * 0.015
      from generate_series(1, 119) as g`);
  await seedAudit(db, {
    eventType: "state_change",
    actorType: "cp",
    actorId: "CP_00010",
    resource: "cp/CP_00010",
    action: "change_state",
    details: { from: "ACTIVE", to: "SUPPLYING" },
  });
  browser = await launchChromium();
  page = await browser.newPage(LAPTOP);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(api.url);
  await page.waitForSelector("#cps [data-cp]");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.stop();
});

describe("the charger view with 10,000 chargers", () => {
  test("shows one page of chargers, the network's figures counted by the database, and the count per state", async () => {
    expect(await cards().count()).toBe(48);
    expect(await countText()).toBe("1–48 of 10,000 chargers");
    expect(await page.locator('[data-testid="tile-cps"]').textContent()).toContain("10,000");
    expect(await page.locator('#fleet-states button[data-status=""]').textContent()).toContain("10,000");
    const supplying = Number((await page.locator('#fleet-states button[data-status="SUPPLYING"] .chip-n').textContent())?.replace(/,/g, ""));
    expect(supplying).toBe(750); // every tenth charger outside the frost cities
    expect(await page.locator('[data-testid="tile-supplying"]').textContent()).toContain("750");
    // The page holds only what it shows.
    expect(await page.locator("[data-cp]").count()).toBe(48);
    await screenshot(page, "console-10k-laptop");
  });

  test("searches by id and by city on the server", async () => {
    await page.fill("#fleet-q", "CP_0999");
    await waitFor(async () => (await countText()).includes("of 10 chargers"), "the search for CP_0999 answered");
    expect(await cardIds()).toEqual(Array.from({ length: 10 }, (_, i) => `CP_0999${i}`));

    await page.fill("#fleet-q", "oslo");
    await waitFor(async () => (await countText()).includes("of 1,250 chargers"), "the search for oslo answered");
    expect(new Set(await page.locator("#cps [data-cp] .cp-meta").evaluateAll((els) => els.map((e) => e.textContent?.split(" ·")[0])))).toEqual(
      new Set(["Oslo"]),
    );
    expect(page.url()).toContain("q=oslo"); // a search is a link
    await screenshot(page, "console-search-oslo-laptop");

    await page.fill("#fleet-q", "no-such-charger");
    await waitFor(async () => (await countText()) === "No charger matches", "the empty result said");
    expect(await page.locator("#cps").textContent()).toContain("No charger matches this search");
    await page.click("#fleet-clear");
    await waitFor(async () => (await countText()).includes("of 10,000"), "the search cleared");
  });

  test("filters by state and city, sorts, and pages through the result", async () => {
    await page.click('#fleet-states button[data-status="BROKEN"]');
    await waitFor(async () => (await countText()).includes("of 69 chargers"), "the BROKEN filter applied");
    expect(new Set(await cards().evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state)))).toEqual(new Set(["BROKEN"]));
    expect(await page.locator('#fleet-states button[data-status="BROKEN"]').getAttribute("aria-pressed")).toBe("true");

    await page.click('#fleet-states button[data-status="BROKEN"]'); // pressed again: all states
    await page.fill("#fleet-city", "valencia");
    await page.press("#fleet-city", "Enter");
    await page.locator("#fleet-city").blur();
    await waitFor(async () => (await countText()).includes("of 1,250 chargers"), "the city filter applied");
    await page.selectOption("#fleet-sort", "price:desc");
    await waitFor(async () => (await cardIds())[0] !== "CP_00003", "sorted by price");
    const prices = await page.locator("#cps [data-cp] .cp-meta .num").evaluateAll((els) => els.map((e) => Number.parseFloat(e.textContent ?? "")));
    expect(prices).toEqual([...prices].sort((a, b) => b - a));

    const first = await cardIds();
    await page.click("#fleet-next");
    await waitFor(async () => (await countText()).startsWith("49–96"), "the second page");
    const second = await cardIds();
    expect(second.some((id) => first.includes(id))).toBe(false);
    await page.click("#fleet-prev");
    await waitFor(async () => (await countText()).startsWith("1–48"), "back to the first page");
    await page.click("#fleet-clear");
    await page.selectOption("#fleet-sort", "cp_id:asc");
    await waitFor(async () => (await countText()).includes("of 10,000"), "all chargers again");
  });

  test("says so when the API refuses a search, and never shows a server error", async () => {
    await page.goto(`${api.url}/#/?status=NOT_A_STATE`);
    await page.waitForSelector("#fleet-error:not([hidden])");
    expect(await page.locator("#fleet-error").textContent()).toContain("status must be one of");
    const res = await fetch(`${api.url}/ev/central/fleet?q=${encodeURIComponent("a\u0000b")}&limit=9999`);
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["limit", "q"]);
    await page.goto(`${api.url}/#/`);
    await page.waitForSelector("#fleet-error", { state: "hidden" });
  });
});

describe("a charger's page", () => {
  test("opens from a click, with state, place, price, protocol, its chart of the session and its history", async () => {
    await page.click('#cps [data-cp="CP_00010"]');
    await page.waitForSelector("#charger-id");
    expect(page.url()).toContain("#/cp/CP_00010");
    const facts = (await page.locator("#charger .facts").textContent()) ?? "";
    expect(facts).toContain("Barcelona");
    expect(facts).toContain("41.387, 2.169");
    expect(facts).toContain("0.35 €/kWh");
    expect(await page.locator('[data-field="protocol"]').textContent()).toContain("evnet");
    await page.waitForSelector("#chart-session canvas");
    // The session's chart: its start, the 119 kept readings and its latest figures.
    expect(Number(await page.locator("#chart-session").getAttribute("data-points"))).toBeGreaterThanOrEqual(120);
    expect(Number(await page.locator("#chart-day").getAttribute("data-points"))).toBeGreaterThanOrEqual(10);
    const painted = await page.locator("#chart-session canvas").evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0) coloured++;
      return coloured;
    });
    expect(painted).toBeGreaterThan(1000); // lines were drawn, not an empty canvas
    expect(await page.locator("#charger").textContent()).toContain("DRIVER_00001");
    expect(await page.locator("#charger").textContent()).toContain("state change");
    await screenshot(page, "console-charger-laptop");
    const phone = await browser.newPage(PHONE);
    await phone.goto(`${api.url}/#/cp/CP_00010`);
    await phone.waitForSelector("#chart-session canvas");
    await screenshot(phone, "console-charger-phone");
    await phone.close();
  });

  test("opens from a URL, and says plainly when there is no such charger", async () => {
    await page.goto(`${api.url}/#/cp/CP_09999`);
    await page.waitForFunction(() => document.querySelector("#charger-id")?.textContent === "CP_09999");
    await page.goto(`${api.url}/#/cp/CP_NOPE`);
    await page.waitForSelector("#charger .notice");
    expect(await page.locator("#charger .notice").textContent()).toBe("There is no charging point CP_NOPE.");
  });
});

describe("history", () => {
  test("filters sessions by charger, city, time and end reason, with totals and paging", async () => {
    await page.goto(`${api.url}/#/history`);
    await page.waitForSelector("#history-table table");
    expect(await page.locator("#history-count").textContent()).toBe("1–50 of 753");
    await page.fill('#history-form [name="cp_id"]', "CP_00001");
    await page.click('#history-form button[type="submit"]');
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–2 of 2", "the charger filter");
    expect(await page.locator('[data-total="Energy"]').textContent()).toBe("21.000 kWh");
    await page.selectOption('#history-form [name="end_reason"]', "unplugged");
    await page.click('#history-form button[type="submit"]');
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–1 of 1", "the end reason filter");
    expect(page.url()).toContain("end_reason=unplugged");
    // Reset shows every session again; it does so through the address (a moment later), which
    // fills the form from it: what is typed before that would be cleared.
    await page.click('#history-form button[type="reset"]');
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–50 of 753", "the reset");
    expect(page.url()).not.toContain("end_reason");
    await page.fill('#history-form [name="city"]', "barcelona");
    await page.selectOption('#history-form [name="status"]', "FINISHED");
    await page.click('#history-form button[type="submit"]');
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–1 of 1", "the city filter");
    expect(await page.locator("#history-table").textContent()).toContain("CP_00002");
    await screenshot(page, "console-history-laptop");

    await page.goto(`${api.url}/#/history?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z`);
    await page.waitForSelector("#history-error:not([hidden])");
    expect(await page.locator("#history-error").textContent()).toContain("from must not be after to");
    await page.goto(`${api.url}/#/history?driver_id=NOBODY`);
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "Nothing matches", "an empty result");
    expect(await page.locator("#history-table").textContent()).toContain("No session matches");
  });

  test("downloads the filtered sessions as CSV", async () => {
    await page.goto(`${api.url}/#/history?driver_id=DRIVER_HIST`);
    await waitFor(async () => (await page.locator("#history-count").textContent()) === "1–3 of 3", "three sessions");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#history-csv")]);
    expect(download.suggestedFilename()).toMatch(/^evnet-sessions-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\r\n");
    expect(lines[0]).toBe("session_id,cp_id,city,driver_id,status,started_at,ended_at,duration_s,energy_kwh,price_per_kwh,cost_eur,end_reason");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["S-hist-0", "S-hist-1", "S-hist-2"]);
    expect(lines[2]).toContain(",Madrid,DRIVER_HIST,FINISHED,");
    expect(lines[2]?.endsWith(",unplugged")).toBe(true);
  });

  test("shows the audit log with its filters, readable on a phone", async () => {
    const phone = await browser.newPage(PHONE);
    await phone.goto(`${api.url}/#/audit?resource=cp/CP_00010`);
    await phone.waitForSelector("#audit-table table");
    expect(await phone.locator("#audit-log-count").textContent()).toBe("1–1 of 1");
    expect(await phone.locator('#audit-form [name="resource"]').inputValue()).toBe("cp/CP_00010");
    // No sideways scrolling: the page is as wide as the phone.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(phone, "console-audit-phone");
    await phone.goto(`${api.url}/#/audit?outcome=maybe`);
    await phone.waitForSelector("#audit-error:not([hidden])");
    expect(await phone.locator("#audit-error").textContent()).toContain("outcome must be success, failure or error");
    await phone.close();
  });
});

describe("the map", () => {
  test("places the cities' chargers on the outline map, coloured by state, frost marked, without a tile server", async () => {
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`${api.url}/#/map`);
    await page.waitForSelector('#map-canvas[data-cities="7"]');
    // The countries' outlines, drawn from the shipped Natural Earth file.
    await page.waitForFunction(() => document.querySelectorAll(".leaflet-overlay-pane path").length > 100);
    expect(await page.locator(".city-marker").count()).toBe(7);
    expect(await page.locator(".city-marker.frost").count()).toBe(2); // Oslo and Helsinki
    const oslo = page.locator('.city-marker[data-city="Oslo"]');
    expect(await oslo.evaluate((e) => (e as HTMLElement).style.background)).toContain("conic-gradient");
    expect(await page.locator("#map-unplaced").textContent()).toContain("Zaragoza");
    expect(requests.every((u) => u.startsWith(api.url))).toBe(true); // nothing from the internet
    await screenshot(page, "console-map-laptop");
    await oslo.click();
    await waitFor(async () => page.url().includes("city=Oslo") && (await countText()).includes("of 1,250"), "the city's chargers listed");
  });
});

test("the page raised no script error", () => {
  expect(pageErrors).toEqual([]);
});
