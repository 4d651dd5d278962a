/** How a charging point talks to evnet: its own engine and monitor over Kafka, or OCPP through the gateway. */
export const CP_PROTOCOLS = ["evnet", "ocpp"] as const;
export type CpProtocol = (typeof CP_PROTOCOLS)[number];

/** Whether a CP is connected now (an OCPP charger's socket, an evnet CP's heartbeats), was once, or never was. */
export const CONNECTION_STATES = ["online", "offline", "never"] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];
