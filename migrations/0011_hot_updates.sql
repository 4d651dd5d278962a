-- A session in progress has its row updated with every reading, a charging point with every
-- heartbeat. With pages left 30% free, PostgreSQL writes the new version of such a row in the
-- same page and leaves the indexes alone (a HOT update: none of the updated columns is indexed),
-- instead of adding an entry to each of the table's indexes for every reading. Existing pages
-- keep their layout; pages written from now on leave the room.
ALTER TABLE "charging_sessions" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "charging_points" SET (fillfactor = 70);
