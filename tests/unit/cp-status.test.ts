import { describe, expect, test } from "bun:test";
import { type CpConditions, deriveStatus, sessionMustEnd } from "../../src/domain/cp-status.ts";

const healthy: CpConditions = { channel: "active", connected: true, operatorStopped: false, engineFault: false, supplying: false, weatherAlert: false };
const statusOf = (c: Partial<CpConditions>) => deriveStatus({ ...healthy, ...c }).status;

describe("a charging point's state, derived from what Central knows", () => {
  test("an authenticated, connected, idle CP is ACTIVE; with a session it is SUPPLYING", () => {
    expect(statusOf({})).toBe("ACTIVE");
    expect(statusOf({ supplying: true })).toBe("SUPPLYING");
  });

  test("a CP never authenticated, or whose monitor went silent, is DISCONNECTED", () => {
    expect(statusOf({ channel: "none" })).toBe("DISCONNECTED");
    expect(statusOf({ connected: false, supplying: true })).toBe("DISCONNECTED");
    expect(deriveStatus({ ...healthy, connected: false }).reason).toContain("its monitor");
    // An OCPP charger has no monitor: the reason names its gateway.
    expect(deriveStatus({ ...healthy, connected: false, keepsChargingOffline: true }).reason).toContain("through a gateway");
  });

  test("a revoked key or an operator stop make it STOPPED, whatever else holds", () => {
    expect(statusOf({ channel: "revoked", connected: false })).toBe("STOPPED");
    expect(statusOf({ operatorStopped: true, engineFault: true, supplying: true })).toBe("STOPPED");
  });

  test("an engine fault makes it BROKEN, and recovery returns it to ACTIVE", () => {
    expect(statusOf({ engineFault: true, supplying: true, weatherAlert: true })).toBe("BROKEN");
    expect(statusOf({ engineFault: false })).toBe("ACTIVE");
  });

  test("frost takes an idle CP OUT_OF_SERVICE, lets a supplying one finish, and keeps a returning one out", () => {
    expect(statusOf({ weatherAlert: true })).toBe("OUT_OF_SERVICE");
    expect(statusOf({ weatherAlert: true, supplying: true })).toBe("SUPPLYING");
    expect(statusOf({ weatherAlert: true, operatorStopped: false, engineFault: false })).toBe("OUT_OF_SERVICE");
    expect(deriveStatus({ ...healthy, weatherAlert: true }).reason).toContain("weather");
  });

  test("a session must end on a fault, a stop, a revocation or a lost monitor, but not for the weather", () => {
    expect(sessionMustEnd({ ...healthy, supplying: true })).toBeUndefined();
    expect(sessionMustEnd({ ...healthy, supplying: true, weatherAlert: true })).toBeUndefined();
    expect(sessionMustEnd({ ...healthy, engineFault: true })).toBe("fault");
    expect(sessionMustEnd({ ...healthy, operatorStopped: true })).toBe("operator_stop");
    expect(sessionMustEnd({ ...healthy, channel: "revoked" })).toBe("key_revoked");
    expect(sessionMustEnd({ ...healthy, connected: false })).toBe("disconnected");
  });
});
