import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { DriverState } from "../../domain/session-state.ts";

/**
 * A driver's account. Its id is also the id tag a charger's RFID reader presents (OCPP 1.6
 * CiString20), so it is at most 20 characters. It holds a credential (kept only as a hash) that
 * buys channel keys, as a CP's does.
 */
export const drivers = pgTable("drivers", {
  driverId: text("driver_id").primaryKey(),
  status: text("status").$type<DriverState>().notNull().default("IDLE"),
  currentSessionId: text("current_session_id"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  /** SHA-256 of the driver's current credential (a random secret shown once); null: no account. */
  credentialHash: text("credential_hash"),
  /** When the current credential was issued (registration, or an operator's new one). */
  registeredAt: timestamp("registered_at", { withTimezone: true }),
});

/** Channel keys Central issues to authenticated drivers, wrapped under the master key. */
export const driverKeys = pgTable(
  "driver_keys",
  {
    keyId: text("key_id").primaryKey(),
    driverId: text("driver_id")
      .notNull()
      .references(() => drivers.driverId),
    /** AES-256-GCM of the key under EVNET_MASTER_KEY (never the key in plaintext). */
    wrappedKey: text("wrapped_key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedReason: text("revoked_reason"),
  },
  // revoked_at: Central follows the keys revoked since it last looked (src/roles/central/channel.ts).
  (t) => [index("driver_keys_driver_idx").on(t.driverId), index("driver_keys_revoked_idx").on(t.revokedAt)],
);

export type DriverRow = typeof drivers.$inferSelect;
export type DriverKeyRow = typeof driverKeys.$inferSelect;
