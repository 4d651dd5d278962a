-- A charging point's row keeps the sequence of the last heartbeat Central applied, and takes no
-- heartbeat that is not after it: heartbeats are guarded against replay by the row they update
-- anyway, instead of writing the monitor's message_sequences row as well.
ALTER TABLE "charging_points" ADD COLUMN "last_heartbeat_seq" bigint DEFAULT 0 NOT NULL;
