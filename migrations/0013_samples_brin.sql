-- session_samples takes a row per supplying charger every few seconds, and only the daily pruning
-- looks its rows up by time alone. Rows come in time order, so a BRIN index (a summary per range of
-- pages) finds the old ones as well as a B-tree did, at a fraction of its cost per insert.
DROP INDEX "session_samples_at_idx";--> statement-breakpoint
CREATE INDEX "session_samples_at_idx" ON "session_samples" USING brin ("at");
