CREATE TABLE "bus_offsets" (
	"group_id" text NOT NULL,
	"topic" text NOT NULL,
	"partition" integer NOT NULL,
	"next_offset" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bus_offsets_group_id_topic_partition_pk" PRIMARY KEY("group_id","topic","partition")
);
--> statement-breakpoint
CREATE TABLE "driver_requests" (
	"request_id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"driver_id" text NOT NULL,
	"cp_id" text NOT NULL,
	"outcome" text NOT NULL,
	"code" text,
	"reason" text,
	"session_id" text,
	"answer" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "channel_state" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "connected" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "operator_stopped" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "engine_fault" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "heartbeat_interval_s" double precision;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD COLUMN "supply_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD COLUMN "pending_end_reason" text;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD COLUMN "awaiting_until" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "charging_sessions_one_open_per_cp" ON "charging_sessions" USING btree ("cp_id") WHERE status = 'IN_PROGRESS';--> statement-breakpoint
CREATE UNIQUE INDEX "charging_sessions_one_open_per_driver" ON "charging_sessions" USING btree ("driver_id") WHERE status = 'IN_PROGRESS';--> statement-breakpoint
CREATE INDEX "charging_sessions_awaiting_idx" ON "charging_sessions" USING btree ("awaiting_until") WHERE status = 'IN_PROGRESS';