CREATE TABLE "driver_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"driver_id" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text
);
--> statement-breakpoint
ALTER TABLE "drivers" ADD COLUMN "credential_hash" text;--> statement-breakpoint
ALTER TABLE "drivers" ADD COLUMN "registered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "driver_keys" ADD CONSTRAINT "driver_keys_driver_id_drivers_driver_id_fk" FOREIGN KEY ("driver_id") REFERENCES "public"."drivers"("driver_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "driver_keys_driver_idx" ON "driver_keys" USING btree ("driver_id");