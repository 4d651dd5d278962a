-- Central follows revocations: every few seconds it reads the keys revoked since it last looked,
-- instead of reading every key it holds again.
CREATE INDEX "cp_keys_revoked_idx" ON "cp_keys" USING btree ("revoked_at");--> statement-breakpoint
CREATE INDEX "driver_keys_revoked_idx" ON "driver_keys" USING btree ("revoked_at");
