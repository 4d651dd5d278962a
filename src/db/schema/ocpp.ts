import { sql } from "drizzle-orm";
import { doublePrecision, index, integer, pgTable, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import type { ConnectionState } from "../../domain/cp-protocol.ts";
import { chargingPoints } from "./charging-points.ts";

/**
 * A charger that speaks OCPP-J to the gateway (`evnet ocpp`), as its operator registered it:
 * the security profile it must connect with, its OCPP password (only a slow hash), and where
 * and how it is connected now (written by the gateway that holds its WebSocket).
 */
export const ocppChargers = pgTable("ocpp_chargers", {
  cpId: text("cp_id")
    .primaryKey()
    .references(() => chargingPoints.cpId),
  /** 1: basic auth over ws:// (loopback or allowed networks); 2: TLS + basic auth; 3: mutual TLS. */
  securityProfile: integer("security_profile").notNull().default(2),
  /** scrypt hash of the OCPP basic-auth password (src/crypto/passwords.ts); never the password. */
  passwordHash: text("password_hash").notNull(),
  passwordSetAt: timestamp("password_set_at", { withTimezone: true }).notNull().defaultNow(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  connection: text("connection").$type<ConnectionState>().notNull().default("never"),
  /** The subprotocol it agreed: ocpp1.6 or ocpp2.0.1. */
  subprotocol: text("subprotocol"),
  /** Which gateway instance holds its socket (or last held it). */
  gateway: text("gateway"),
  /** The socket it has now, counted up per connection: a gateway only marks its own socket offline. */
  connectionSeq: integer("connection_seq").notNull().default(0),
  connectedAt: timestamp("connected_at", { withTimezone: true }),
  disconnectedAt: timestamp("disconnected_at", { withTimezone: true }),
  remoteAddress: text("remote_address"),
});

/**
 * OCPP transactions and the evnet session each one is. 1.6 transaction ids are integers the
 * central system assigns (this table's `id`); 2.0.1 ids are strings the charger picks. A retried
 * StartTransaction finds its row by `start_key` and gets the same id and session.
 */
export const ocppTransactions = pgTable(
  "ocpp_transactions",
  {
    id: serial("id").primaryKey(),
    cpId: text("cp_id")
      .notNull()
      .references(() => chargingPoints.cpId),
    /** The transaction id as the charger uses it (1.6: the integer `id` as text). */
    ocppTxId: text("ocpp_tx_id").notNull(),
    sessionId: text("session_id").notNull(),
    idTag: text("id_tag"),
    connectorId: integer("connector_id").notNull().default(1),
    /** connector|idTag|timestamp|meterStart of a 1.6 StartTransaction: a retry has the same key. */
    startKey: text("start_key"),
    /** The meter register (Wh) when the transaction began; energy is the register minus this. */
    meterStartWh: doublePrecision("meter_start_wh"),
    lastMeterWh: doublePrecision("last_meter_wh"),
    meterStopWh: doublePrecision("meter_stop_wh"),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull(),
    stoppedAt: timestamp("stopped_at", { withTimezone: true }),
    stopReason: text("stop_reason"),
    status: text("status").$type<"open" | "ended">().notNull().default("open"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("ocpp_transactions_tx_idx").on(t.cpId, t.ocppTxId),
    uniqueIndex("ocpp_transactions_start_idx").on(t.cpId, t.startKey),
    index("ocpp_transactions_open_idx").on(t.cpId).where(sql`status = 'open'`),
    index("ocpp_transactions_session_idx").on(t.sessionId),
  ],
);

export type OcppChargerRow = typeof ocppChargers.$inferSelect;
export type OcppTransactionRow = typeof ocppTransactions.$inferSelect;
