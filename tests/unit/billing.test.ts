import { describe, expect, test } from "bun:test";
import { costOf, energyOver, finalEnergy, meterKwh, ticketFor } from "../../src/domain/billing.ts";

describe("billing", () => {
  test("meters energy in watt-hours and charges to the cent", () => {
    expect(meterKwh(0.0612345)).toBe(0.061);
    expect(costOf(10, 0.3)).toBe(3);
    expect(costOf(0.061, 0.35)).toBe(0.02);
    expect(costOf(0.0614, 0.35)).toBe(costOf(0.061, 0.35));
  });

  test("energy grows with power and time: 22 kW for one hour is 22 kWh, negative time is none", () => {
    expect(energyOver(22, 3_600_000)).toBe(22);
    expect(energyOver(22, 1000)).toBeCloseTo(0.00611, 5);
    expect(energyOver(22, -5)).toBe(0);
  });

  test("a session ends with the engine's final reading, never less than what was already billed", () => {
    expect(finalEnergy(0.05, 0.0612)).toBe(0.061);
    expect(finalEnergy(0.05, 0.01)).toBe(0.05);
    expect(finalEnergy(0.05, undefined)).toBe(0.05);
    expect(finalEnergy(0.05, Number.NaN)).toBe(0.05);
  });

  test("a ticket recomputes the cost from the metered energy and states the duration and the reason", () => {
    const ticket = ticketFor({
      sessionId: "S-1",
      cpId: "CP_1",
      driverId: "D_1",
      energyKwh: 1.23456,
      pricePerKwh: 0.4,
      startedAt: new Date("2025-01-01T10:00:00Z"),
      endedAt: new Date("2025-01-01T10:01:30.400Z"),
      endReason: "unplugged",
    });
    expect(ticket).toEqual({
      session_id: "S-1",
      cp_id: "CP_1",
      driver_id: "D_1",
      energy_kwh: 1.235,
      price_per_kwh: 0.4,
      cost_eur: 0.49,
      started_at: "2025-01-01T10:00:00.000Z",
      ended_at: "2025-01-01T10:01:30.400Z",
      duration_s: 90,
      end_reason: "unplugged",
    });
  });
});
