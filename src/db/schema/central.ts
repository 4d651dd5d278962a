import { bigint, bigserial, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { bytes } from "./bytes.ts";

/**
 * The next bus offset Central has not applied yet, per consumer group and partition, written in
 * the same transaction as the effects of a batch. A batch delivered again (Central died before
 * the bus commit, or a rebalance handed the partition over mid-batch) is applied once.
 */
export const busOffsets = pgTable(
  "bus_offsets",
  {
    groupId: text("group_id").notNull(),
    topic: text("topic").notNull(),
    partition: integer("partition").notNull(),
    nextOffset: bigint("next_offset", { mode: "bigint" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.topic, t.partition] })],
);

/**
 * Messages Central must send (answers to drivers, commands to engines, tickets), stored in the
 * transaction that decided them and deleted once published: a crash between the two loses none.
 */
export const outbox = pgTable("outbox", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  topic: text("topic").notNull(),
  key: text("key").notNull(),
  /** The sealed message as published (binary: src/crypto/envelope.ts). */
  value: bytes("value").notNull(),
  /** A command to a CP's engine about this session, which Central then waits for the engine to answer. */
  sessionId: text("session_id"),
  /** What Central awaits once the command is published: `start` (supply_started) or `end` (the final reading). */
  awaits: text("awaits"),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Every driver request Central decided, by the driver's request id: a repeated request gets the same answer. */
export const driverRequests = pgTable("driver_requests", {
  requestId: text("request_id").primaryKey(),
  kind: text("kind").$type<"charge" | "stop">().notNull(),
  driverId: text("driver_id").notNull(),
  cpId: text("cp_id").notNull(),
  outcome: text("outcome").$type<"authorised" | "refused" | "stopping" | "ticket">().notNull(),
  code: text("code"),
  reason: text("reason"),
  sessionId: text("session_id"),
  /** The answer as sent, to send again verbatim. */
  answer: text("answer").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The ids of the signed control messages Central applied (src/crypto/signed-messages.ts): a
 * message whose id is here is a replay and is refused. Ids older than Central's freshness window
 * are pruned (a message that old is refused as stale anyway).
 */
export const controlMessageIds = pgTable(
  "control_message_ids",
  {
    id: text("id").primaryKey(),
    signer: text("signer").notNull(),
    seenAt: timestamp("seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("control_message_ids_seen_idx").on(t.seenAt)],
);

export type BusOffsetRow = typeof busOffsets.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type DriverRequestRow = typeof driverRequests.$inferSelect;
export type ControlMessageIdRow = typeof controlMessageIds.$inferSelect;
