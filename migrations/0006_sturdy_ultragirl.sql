ALTER TABLE "outbox" ADD COLUMN "session_id" text;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "awaits" text;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD COLUMN "last_reading_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD COLUMN "corrected_at" timestamp with time zone;