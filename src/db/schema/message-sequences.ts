import { bigint, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Replay protection: the highest sequence number accepted from each sender under each key.
 * A message whose sequence is not greater is a replay and is refused, across restarts too.
 */
export const messageSequences = pgTable(
  "message_sequences",
  {
    keyId: text("key_id").notNull(),
    sender: text("sender").notNull(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.sender] })],
);

export type MessageSequenceRow = typeof messageSequences.$inferSelect;
