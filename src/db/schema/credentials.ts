import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { chargingPoints } from "./charging-points.ts";

/** Every credential (JWT) the Registry issued; only the CP's current one is accepted. */
export const cpCredentials = pgTable(
  "cp_credentials",
  {
    jti: text("jti").primaryKey(),
    cpId: text("cp_id")
      .notNull()
      .references(() => chargingPoints.cpId),
    issuedAt: timestamp("issued_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** Set when superseded by re-registration or invalidated by deregistration. */
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedReason: text("revoked_reason"),
    /** When the CP last authenticated with it. */
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [index("cp_credentials_cp_idx").on(t.cpId)],
);

/** Symmetric channel keys Central issues to authenticated CPs, wrapped under the master key. */
export const cpKeys = pgTable(
  "cp_keys",
  {
    keyId: text("key_id").primaryKey(),
    cpId: text("cp_id")
      .notNull()
      .references(() => chargingPoints.cpId),
    /** AES-256-GCM of the key under EVNET_MASTER_KEY (never the key in plaintext). */
    wrappedKey: text("wrapped_key").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokedReason: text("revoked_reason"),
  },
  // revoked_at: Central follows the keys revoked since it last looked (src/roles/central/channel.ts).
  (t) => [index("cp_keys_cp_idx").on(t.cpId), index("cp_keys_revoked_idx").on(t.revokedAt)],
);

export type CredentialRow = typeof cpCredentials.$inferSelect;
export type CpKeyRow = typeof cpKeys.$inferSelect;
