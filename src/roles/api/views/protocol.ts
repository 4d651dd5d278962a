/**
 * How a charger talks to the network, in words. Chargers of evnet's own engine and monitor seal
 * their messages on Kafka; chargers that join another way record it on their row (a `protocol`
 * column, with `vendor`/`model` where known), and this is the one place that reads it.
 */
import type { ProtocolView } from "../console-shapes.ts";

const DESCRIPTIONS: Record<string, string> = {
  evnet: "evnet engine and monitor: messages sealed with the charger's own key (AES-256-GCM) over Kafka",
  "ocpp1.6": "OCPP 1.6J over WebSocket, through the OCPP gateway",
  "ocpp2.0.1": "OCPP 2.0.1 over WebSocket, through the OCPP gateway",
};

export function protocolOf(row: object): ProtocolView {
  const fields = row as { protocol?: unknown; vendor?: unknown; model?: unknown };
  const name = typeof fields.protocol === "string" && fields.protocol ? fields.protocol : "evnet";
  const maker = [fields.vendor, fields.model].filter((x): x is string => typeof x === "string" && x.length > 0).join(" ");
  const description = DESCRIPTIONS[name.toLowerCase()] ?? name;
  return { name, description: maker ? `${description} (${maker})` : description };
}
