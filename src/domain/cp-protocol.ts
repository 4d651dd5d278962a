/** How a charging point talks to evnet: its own engine and monitor over Kafka, or OCPP through the gateway. */
export const CP_PROTOCOLS = ["evnet", "ocpp"] as const;
export type CpProtocol = (typeof CP_PROTOCOLS)[number];
