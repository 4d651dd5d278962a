import { sql } from "drizzle-orm";
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { bytes } from "./bytes.ts";

/**
 * Messages a consumer could never apply (its data is at fault, not the database), set aside so
 * that the partition moves on: kept byte for byte with where they came from and why they were
 * set aside, copied to the dead-letter topic, and replayed by an operator once the cause is fixed.
 */
export const deadLetters = pgTable(
  "dead_letters",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    setAsideAt: timestamp("set_aside_at", { withTimezone: true }).notNull().defaultNow(),
    /** The consumer group that set it aside (Central's). */
    consumer: text("consumer").notNull(),
    topic: text("topic").notNull(),
    partition: integer("partition").notNull(),
    offset: bigint("offset", { mode: "bigint" }).notNull(),
    key: bytes("key").notNull(),
    value: bytes("value").notNull(),
    /** The message's own headers. */
    headers: jsonb("headers").$type<Record<string, string>>(),
    /** validation, or the SQLSTATE of the database's refusal (22P05, 23514...), or error. */
    code: text("code").notNull(),
    reason: text("reason").notNull(),
    /** set_aside, replaying (an operator asked), replayed, replay_failed */
    status: text("status").notNull().default("set_aside"),
    /** When it was copied to the dead-letter topic (null: not yet; the sweeper does it). */
    publishedAt: timestamp("published_at", { withTimezone: true }),
    replayRequestedAt: timestamp("replay_requested_at", { withTimezone: true }),
    replayRequestedBy: text("replay_requested_by"),
    /** When Central sent the replay asked for back to its topic (null while it has not). */
    replaySentAt: timestamp("replay_sent_at", { withTimezone: true }),
    replayedAt: timestamp("replayed_at", { withTimezone: true }),
    /** The dead letter this one is a failed replay of. */
    replayOf: bigint("replay_of", { mode: "number" }),
  },
  (t) => [
    index("dead_letters_set_aside_idx").on(t.setAsideAt),
    index("dead_letters_unpublished_idx").on(t.id).where(sql`published_at is null`),
    index("dead_letters_replays_due_idx").on(t.id).where(sql`status = 'replaying' and replay_sent_at is null`),
  ],
);

export type DeadLetterRow = typeof deadLetters.$inferSelect;
