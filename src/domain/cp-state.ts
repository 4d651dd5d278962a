/**
 * Charging point states and the rules for moving between them. Pure: Central applies these
 * decisions, persists the new state and audits the change with its reason.
 */
export const CP_STATES = ["ACTIVE", "SUPPLYING", "STOPPED", "OUT_OF_SERVICE", "BROKEN", "DISCONNECTED"] as const;
export type CpState = (typeof CP_STATES)[number];

/** Why a driver's request at a CP in a given state is refused (undefined: it can be served). */
export function refusalFor(state: CpState): { code: string; reason: string } | undefined {
  switch (state) {
    case "ACTIVE":
      return undefined;
    case "SUPPLYING":
      return { code: "cp_busy", reason: "the charging point is already supplying another vehicle" };
    case "STOPPED":
      return { code: "cp_stopped", reason: "the charging point has been stopped by the operator" };
    case "OUT_OF_SERVICE":
      return { code: "cp_out_of_service", reason: "the charging point is out of service (weather alert)" };
    case "BROKEN":
      return { code: "cp_broken", reason: "the charging point is broken" };
    case "DISCONNECTED":
      return { code: "cp_disconnected", reason: "the charging point is not connected" };
  }
}
