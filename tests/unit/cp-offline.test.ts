import { describe, expect, test } from "bun:test";
import { hashPassword, newOcppPassword, verifyPassword } from "../../src/crypto/passwords.ts";
import { availabilityAfter, type CpConditions, sessionMustEnd } from "../../src/domain/cp-status.ts";

const base: CpConditions = { channel: "active", connected: true, operatorStopped: false, engineFault: false, supplying: true, weatherAlert: false };

describe("a CP that keeps charging while disconnected", () => {
  test("a silence ends an evnet CP's session, not one of a CP that charges offline", () => {
    expect(sessionMustEnd({ ...base, connected: false })).toBe("disconnected");
    expect(sessionMustEnd({ ...base, connected: false, keepsChargingOffline: true })).toBeUndefined();
  });

  test("revocation, an operator's stop and a fault still end its session", () => {
    expect(sessionMustEnd({ ...base, keepsChargingOffline: true, channel: "revoked" })).toBe("key_revoked");
    expect(sessionMustEnd({ ...base, keepsChargingOffline: true, operatorStopped: true })).toBe("operator_stop");
    expect(sessionMustEnd({ ...base, keepsChargingOffline: true, engineFault: true })).toBe("fault");
  });
});

describe("availability told to a CP", () => {
  test("closed by an operator's stop or frost, open when available, silent on faults and sessions", () => {
    expect(availabilityAfter("STOPPED", { operatorStopped: true, weatherAlert: false })).toBe(false);
    expect(availabilityAfter("OUT_OF_SERVICE", { operatorStopped: false, weatherAlert: true })).toBe(false);
    expect(availabilityAfter("ACTIVE", { operatorStopped: false, weatherAlert: false })).toBe(true);
    expect(availabilityAfter("BROKEN", { operatorStopped: false, weatherAlert: false })).toBeUndefined();
    expect(availabilityAfter("SUPPLYING", { operatorStopped: false, weatherAlert: true })).toBeUndefined();
  });
});

describe("OCPP passwords", () => {
  test("are 32 letters and digits, differ each time, and only their scrypt hash verifies them", async () => {
    const a = newOcppPassword();
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(newOcppPassword()).not.toBe(a);
    const hash = await hashPassword(a);
    expect(hash.startsWith("scrypt$")).toBe(true);
    expect(hash).not.toContain(a);
    expect(await verifyPassword(a, hash)).toBe(true);
    expect(await verifyPassword(Buffer.from(a), hash)).toBe(true);
    expect(await verifyPassword(`${a}x`, hash)).toBe(false);
    expect(await verifyPassword(a, "scrypt$1$1$1$x$y")).toBe(false);
    expect(await verifyPassword(a, "plain")).toBe(false);
  });
});
