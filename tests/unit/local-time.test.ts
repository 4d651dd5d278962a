/** Times in the menus and lists are the user's local time, to the second, not raw UTC strings. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TicketMessage } from "../../src/bus/messages.ts";
import { localTime } from "../../src/lib/local-time.ts";
import type { SessionView } from "../../src/roles/api/shapes.ts";
import { formatHistory } from "../../src/roles/driver/api.ts";
import { describeTicket } from "../../src/roles/driver/output.ts";

const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "Asia/Kolkata"; // UTC+05:30, so a shifted hour and minute show
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe("times shown to people", () => {
  test("are in the local time zone, readable, to the second", () => {
    expect(localTime("2026-05-04T10:03:12.345Z")).toBe("2026-05-04 15:33:12");
    expect(localTime(new Date("2026-12-31T20:00:00Z"))).toBe("2027-01-01 01:30:00");
    expect(localTime(null)).toBe("-");
  });

  test("on a ticket", () => {
    const ticket = {
      type: "ticket",
      session_id: "S-1",
      cp_id: "CP_001",
      driver_id: "D1",
      energy_kwh: 0.5,
      price_per_kwh: 0.3,
      cost_eur: 0.15,
      started_at: "2026-05-04T10:03:12.000Z",
      ended_at: "2026-05-04T10:04:02.000Z",
      duration_s: 50,
      end_reason: "driver_stop",
    } as TicketMessage;
    const text = describeTicket(ticket);
    expect(text).toContain("  start      2026-05-04 15:33:12");
    expect(text).toContain("  end        2026-05-04 15:34:02");
    expect(text).not.toContain("T10:03");
  });

  test("in the driver's history", () => {
    const past = { session_id: "S-1", cp_id: "CP_001", status: "FINISHED", energy_kwh: 0.5, cost_eur: 0.15, started_at: "2026-05-04T10:03:12.000Z" };
    expect(formatHistory([past as SessionView])).toStartWith("2026-05-04 15:33:12  CP_001");
  });
});
