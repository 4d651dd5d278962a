import { describe, expect, test } from "bun:test";
import { decideCharge, decideStop } from "../../src/domain/charge-requests.ts";

describe("whether Central serves a driver's request", () => {
  test("a charge at an ACTIVE CP by a driver who is not charging is served", () => {
    expect(decideCharge({ cpId: "CP_1", cp: { status: "ACTIVE" } })).toBeUndefined();
  });

  test("an unknown CP, and a CP in every other state, is refused with a code and a reason", () => {
    expect(decideCharge({ cpId: "CP_9" })).toEqual({ code: "unknown_cp", reason: "there is no charging point CP_9" });
    const codes = (["SUPPLYING", "STOPPED", "OUT_OF_SERVICE", "BROKEN", "DISCONNECTED"] as const).map(
      (status) => decideCharge({ cpId: "CP_1", cp: { status } })?.code,
    );
    expect(codes).toEqual(["cp_busy", "cp_stopped", "cp_out_of_service", "cp_broken", "cp_disconnected"]);
  });

  test("a driver already charging elsewhere is refused, and told where", () => {
    const refusal = decideCharge({ cpId: "CP_2", cp: { status: "ACTIVE" }, driverSession: { sessionId: "S-1", cpId: "CP_1" } });
    expect(refusal?.code).toBe("driver_busy");
    expect(refusal?.reason).toContain("CP_1");
  });

  test("a driver may stop only a session of their own", () => {
    const session = { sessionId: "S-1", driverId: "D_1", cpId: "CP_1" };
    expect(decideStop({ driverId: "D_1", cpId: "CP_1", session })).toBeUndefined();
    expect(decideStop({ driverId: "D_2", cpId: "CP_1", session })?.code).toBe("not_your_session");
    expect(decideStop({ driverId: "D_2", cpId: "CP_1" })?.code).toBe("no_session");
  });
});
