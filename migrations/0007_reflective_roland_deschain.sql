CREATE TABLE "dead_letters" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"set_aside_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumer" text NOT NULL,
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"offset" bigint NOT NULL,
	"key" "bytea" NOT NULL,
	"value" "bytea" NOT NULL,
	"headers" jsonb,
	"code" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'set_aside' NOT NULL,
	"published_at" timestamp with time zone,
	"replay_requested_at" timestamp with time zone,
	"replay_requested_by" text,
	"replayed_at" timestamp with time zone,
	"replay_of" bigint
);
--> statement-breakpoint
CREATE INDEX "dead_letters_set_aside_idx" ON "dead_letters" USING btree ("set_aside_at");--> statement-breakpoint
CREATE INDEX "dead_letters_unpublished_idx" ON "dead_letters" USING btree ("id") WHERE published_at is null;