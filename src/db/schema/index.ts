// The one schema every role shares; drizzle-kit reads this barrel to generate migrations.

export * from "./audit-events.ts";
export * from "./central.ts";
export * from "./charging-points.ts";
export * from "./city-coordinates.ts";
export * from "./credentials.ts";
export * from "./dead-letters.ts";
export * from "./drivers.ts";
export * from "./message-sequences.ts";
export * from "./ocpp.ts";
export * from "./service-heartbeats.ts";
export * from "./session-samples.ts";
export * from "./sessions.ts";
export * from "./weather.ts";
