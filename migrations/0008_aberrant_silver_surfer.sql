CREATE TABLE "control_message_ids" (
	"id" text PRIMARY KEY NOT NULL,
	"signer" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "control_message_ids_seen_idx" ON "control_message_ids" USING btree ("seen_at");