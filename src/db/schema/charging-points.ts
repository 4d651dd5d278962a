import { bigint, boolean, doublePrecision, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { CpProtocol } from "../../domain/cp-protocol.ts";
import type { CpState } from "../../domain/cp-state.ts";
import type { ChannelState } from "../../domain/cp-status.ts";

/** A charging point as registered by its operator, with the state Central keeps for it. */
export const chargingPoints = pgTable(
  "charging_points",
  {
    cpId: text("cp_id").primaryKey(),
    location: text("location").notNull(),
    pricePerKwh: doublePrecision("price_per_kwh").notNull(),
    status: text("status").$type<CpState>().notNull().default("DISCONNECTED"),
    statusReason: text("status_reason"),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }).notNull().defaultNow(),
    /** The id (jti) of the one credential that currently works for this CP. */
    currentCredentialId: text("current_credential_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    lastConnectionTime: timestamp("last_connection_time", { withTimezone: true }),
    /** Set when the operator deregisters the CP; its history stays, its credential stops working. */
    deregisteredAt: timestamp("deregistered_at", { withTimezone: true }),
    // The facts Central derives `status` from (src/domain/cp-status.ts), kept by Central.
    channelState: text("channel_state").$type<ChannelState>().notNull().default("none"),
    /** Its monitor's heartbeats arrive; false after 3 missed intervals. */
    connected: boolean("connected").notNull().default(false),
    operatorStopped: boolean("operator_stopped").notNull().default(false),
    engineFault: boolean("engine_fault").notNull().default(false),
    /** The heartbeat interval its monitor announced, in seconds. */
    heartbeatIntervalS: doublePrecision("heartbeat_interval_s"),
    /** The sequence of the last heartbeat applied: a heartbeat not after it is a replay (src/roles/central/sequences.ts). */
    lastHeartbeatSeq: bigint("last_heartbeat_seq", { mode: "number" }).notNull().default(0),
    // What the CP says about itself (cp_info events): shown, and one fact Central acts on.
    /** How it talks to evnet: evnet (engine and monitor) or ocpp (through the gateway). */
    protocol: text("protocol").$type<CpProtocol>().notNull().default("evnet"),
    protocolVersion: text("protocol_version"),
    vendor: text("vendor"),
    model: text("model"),
    serialNumber: text("serial_number"),
    firmwareVersion: text("firmware_version"),
    /** It goes on charging while disconnected: a silent CP's session is not ended, its own final record ends it. */
    keepsChargingOffline: boolean("keeps_charging_offline").notNull().default(false),
  },
  (t) => [index("charging_points_location_idx").on(t.location)],
);

export type CpRow = typeof chargingPoints.$inferSelect;
