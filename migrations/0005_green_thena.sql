CREATE TABLE "ocpp_chargers" (
	"cp_id" text PRIMARY KEY NOT NULL,
	"security_profile" integer DEFAULT 2 NOT NULL,
	"password_hash" text NOT NULL,
	"password_set_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"connection" text DEFAULT 'never' NOT NULL,
	"subprotocol" text,
	"gateway" text,
	"connection_seq" integer DEFAULT 0 NOT NULL,
	"connected_at" timestamp with time zone,
	"disconnected_at" timestamp with time zone,
	"remote_address" text
);
--> statement-breakpoint
CREATE TABLE "ocpp_transactions" (
	"id" serial PRIMARY KEY NOT NULL,
	"cp_id" text NOT NULL,
	"ocpp_tx_id" text NOT NULL,
	"session_id" text NOT NULL,
	"id_tag" text,
	"connector_id" integer DEFAULT 1 NOT NULL,
	"start_key" text,
	"meter_start_wh" double precision,
	"last_meter_wh" double precision,
	"meter_stop_wh" double precision,
	"started_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone,
	"stop_reason" text,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "protocol" text DEFAULT 'evnet' NOT NULL;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "protocol_version" text;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "vendor" text;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "model" text;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "serial_number" text;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "firmware_version" text;--> statement-breakpoint
ALTER TABLE "charging_points" ADD COLUMN "keeps_charging_offline" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "ocpp_chargers" ADD CONSTRAINT "ocpp_chargers_cp_id_charging_points_cp_id_fk" FOREIGN KEY ("cp_id") REFERENCES "public"."charging_points"("cp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ocpp_transactions" ADD CONSTRAINT "ocpp_transactions_cp_id_charging_points_cp_id_fk" FOREIGN KEY ("cp_id") REFERENCES "public"."charging_points"("cp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ocpp_transactions_tx_idx" ON "ocpp_transactions" USING btree ("cp_id","ocpp_tx_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ocpp_transactions_start_idx" ON "ocpp_transactions" USING btree ("cp_id","start_key");--> statement-breakpoint
CREATE INDEX "ocpp_transactions_open_idx" ON "ocpp_transactions" USING btree ("cp_id") WHERE status = 'open';--> statement-breakpoint
CREATE INDEX "ocpp_transactions_session_idx" ON "ocpp_transactions" USING btree ("session_id");