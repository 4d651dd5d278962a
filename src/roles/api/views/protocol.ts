/**
 * How a charger talks to the network, in words. Chargers of evnet's own engine and monitor seal
 * their messages on Kafka; OCPP chargers come through the gateway, and say at boot which version
 * they speak and who made them. This is the one place that names a charger's protocol.
 */
import type { ProtocolView } from "../console-shapes.ts";

/** The protocol filter of the charger list: evnet, any OCPP, or one OCPP version. */
export const PROTOCOL_NAMES = ["evnet", "ocpp", "ocpp1.6", "ocpp2.0.1"] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

const DESCRIPTIONS: Record<ProtocolName, string> = {
  evnet: "evnet engine and monitor: messages sealed with the charger's own key (AES-256-GCM) over Kafka",
  ocpp: "OCPP-J over WebSocket, through the OCPP gateway (version known once the charger has booted)",
  "ocpp1.6": "OCPP 1.6J over WebSocket, through the OCPP gateway",
  "ocpp2.0.1": "OCPP 2.0.1 over WebSocket, through the OCPP gateway",
};

/** evnet, ocpp (not booted yet), ocpp1.6 or ocpp2.0.1. */
export function protocolName(row: { protocol: string; protocolVersion: string | null }): ProtocolName {
  if (row.protocol !== "ocpp") return "evnet";
  const versioned = `ocpp${row.protocolVersion ?? ""}`;
  return versioned === "ocpp1.6" || versioned === "ocpp2.0.1" ? versioned : "ocpp";
}

export function protocolOf(row: { protocol: string; protocolVersion: string | null; vendor: string | null; model: string | null }): ProtocolView {
  const name = protocolName(row);
  const maker = [row.vendor, row.model].filter((x): x is string => typeof x === "string" && x.length > 0).join(" ");
  const description = DESCRIPTIONS[name];
  return { name, description: maker ? `${description} (${maker})` : description };
}
