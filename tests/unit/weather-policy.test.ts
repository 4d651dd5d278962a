import { describe, expect, test } from "bun:test";
import { alertTransition, isFrostAlert, stateWhenAvailable } from "../../src/domain/weather-policy.ts";

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

describe("a charging point becoming available", () => {
  test("after a session, a repair, a resume or a reconnection goes out of service while its city is in alert", () => {
    expect(stateWhenAvailable(true)).toBe("OUT_OF_SERVICE");
    expect(stateWhenAvailable(false)).toBe("ACTIVE");
  });
});
