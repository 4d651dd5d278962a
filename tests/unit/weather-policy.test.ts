import { describe, expect, test } from "bun:test";
import { CP_STATES } from "../../src/domain/cp-state.ts";
import {
  alertTransition,
  cityKey,
  isFrostAlert,
  reactionToAlert,
  reactionToAlertEnd,
  sameCity,
  stateAfterSession,
  stateWhenAvailable,
  tidyCity,
} from "../../src/domain/weather-policy.ts";

describe("a frost alert", () => {
  test("is raised below the critical temperature", () => {
    expect(isFrostAlert(-0.1, 0)).toBe(true);
    expect(isFrostAlert(-12, 0)).toBe(true);
  });

  test("is not raised at or above the critical temperature", () => {
    expect(isFrostAlert(0, 0)).toBe(false);
    expect(isFrostAlert(21.5, 0)).toBe(false);
  });

  test("uses 0 °C when no threshold is given", () => {
    expect(isFrostAlert(-1)).toBe(true);
    expect(isFrostAlert(0)).toBe(false);
  });

  test("follows a configured threshold", () => {
    expect(isFrostAlert(2, 3)).toBe(true);
    expect(isFrostAlert(3, 3)).toBe(false);
  });
});

describe("an alert transition", () => {
  test("starts when a city goes below the threshold for the first time or again", () => {
    expect(alertTransition(undefined, true)).toBe("alert_started");
    expect(alertTransition(false, true)).toBe("alert_started");
  });

  test("is cancelled when an alerted city warms up", () => {
    expect(alertTransition(true, false)).toBe("alert_cancelled");
  });

  test("is unchanged when the city stays on the same side", () => {
    expect(alertTransition(true, true)).toBe("alert_continues");
    expect(alertTransition(false, false)).toBe("no_alert");
    expect(alertTransition(undefined, false)).toBe("no_alert");
  });
});

describe("on a frost alert a charging point", () => {
  test("that is idle goes out of service at once", () => {
    expect(reactionToAlert("ACTIVE")).toEqual({ kind: "out_of_service_now" });
  });

  test("that is supplying finishes its session first", () => {
    expect(reactionToAlert("SUPPLYING")).toEqual({ kind: "out_of_service_after_session" });
  });

  test("that is stopped, broken, disconnected or already out of service is left as it is", () => {
    for (const state of ["STOPPED", "BROKEN", "DISCONNECTED", "OUT_OF_SERVICE"] as const) expect(reactionToAlert(state).kind).toBe("unchanged");
  });
});

describe("when a frost alert ends a charging point", () => {
  test("that was out of service returns to ACTIVE", () => {
    expect(reactionToAlertEnd("OUT_OF_SERVICE")).toEqual({ kind: "back_to_active" });
  });

  test("that is stopped, broken or disconnected for another reason stays so", () => {
    for (const state of ["STOPPED", "BROKEN", "DISCONNECTED"] as const) expect(reactionToAlertEnd(state).kind).toBe("unchanged");
  });

  test("that is active or supplying is left as it is", () => {
    expect(reactionToAlertEnd("ACTIVE").kind).toBe("unchanged");
    expect(reactionToAlertEnd("SUPPLYING").kind).toBe("unchanged");
  });

  test("never makes a charging point active unless the weather had taken it out", () => {
    const activated = CP_STATES.filter((s) => reactionToAlertEnd(s).kind === "back_to_active");
    expect(activated).toEqual(["OUT_OF_SERVICE"]);
  });
});

describe("a charging point becoming available", () => {
  test("after its session goes out of service while its city is in alert", () => {
    expect(stateAfterSession(true)).toBe("OUT_OF_SERVICE");
  });

  test("after its session goes back to ACTIVE when its city is not in alert", () => {
    expect(stateAfterSession(false)).toBe("ACTIVE");
  });

  test("after a repair, a resume or a reconnection respects the alert too", () => {
    expect(stateWhenAvailable(true)).toBe("OUT_OF_SERVICE");
    expect(stateWhenAvailable(false)).toBe("ACTIVE");
  });
});

describe("city names", () => {
  test("match regardless of case and spacing", () => {
    expect(sameCity("Madrid", "  madrid ")).toBe(true);
    expect(sameCity("San  Sebastián", "san sebastián")).toBe(true);
    expect(cityKey(" OSLO ")).toBe("oslo");
  });

  test("do not match different cities", () => {
    expect(sameCity("Madrid", "Málaga")).toBe(false);
  });

  test("are tidied for display without losing their case", () => {
    expect(tidyCity("  San   Sebastián ")).toBe("San Sebastián");
  });
});
