/**
 * CallError codes as each version spells them. ocpp-rpc answers some errors with another
 * version's code (RpcFrameworkError, which 1.6 does not have) or a misspelling 2.0.1 corrected
 * (OccurenceConstraintViolation): its outgoing CALLERROR frames are put right here, so a charger
 * built to its own version's specification understands the answer.
 */
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import type { Subprotocol } from "./admission.ts";

const FIXES: Record<Subprotocol, Record<string, string>> = {
  "ocpp1.6": {
    RpcFrameworkError: "FormationViolation",
    FormatViolation: "FormationViolation",
    OccurenceConstraintViolation: "OccurrenceConstraintViolation",
    MessageTypeNotSupported: "NotSupported",
  },
  "ocpp2.0.1": {
    OccurenceConstraintViolation: "OccurrenceConstraintViolation",
    FormationViolation: "FormatViolation",
  },
};

/** The frame with its error code spelled for `subprotocol` (other frames unchanged). */
export function spellErrorCode(frame: string, subprotocol: Subprotocol): string {
  if (!frame.startsWith("[4,")) return frame;
  try {
    const parsed = JSON.parse(frame) as unknown[];
    const fixed = FIXES[subprotocol][String(parsed[2])];
    if (!fixed) return frame;
    parsed[2] = fixed;
    return JSON.stringify(parsed);
  } catch {
    return frame;
  }
}

export function spellErrorCodesFor(client: RPCServerClient, subprotocol: Subprotocol): void {
  const send = client.sendRaw.bind(client);
  client.sendRaw = (message: string) => send(spellErrorCode(message, subprotocol));
}
