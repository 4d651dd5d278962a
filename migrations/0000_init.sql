CREATE TABLE "charging_points" (
	"cp_id" text PRIMARY KEY NOT NULL,
	"location" text NOT NULL,
	"price_per_kwh" double precision NOT NULL,
	"status" text DEFAULT 'DISCONNECTED' NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"current_credential_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_connection_time" timestamp with time zone,
	"deregistered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "cp_credentials" (
	"jti" text PRIMARY KEY NOT NULL,
	"cp_id" text NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text
);
--> statement-breakpoint
CREATE TABLE "cp_keys" (
	"key_id" text PRIMARY KEY NOT NULL,
	"cp_id" text NOT NULL,
	"wrapped_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text
);
--> statement-breakpoint
CREATE TABLE "message_sequences" (
	"key_id" text NOT NULL,
	"sender" text NOT NULL,
	"last_seq" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "message_sequences_key_id_sender_pk" PRIMARY KEY("key_id","sender")
);
--> statement-breakpoint
CREATE TABLE "drivers" (
	"driver_id" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'IDLE' NOT NULL,
	"current_session_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "charging_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"cp_id" text NOT NULL,
	"driver_id" text NOT NULL,
	"status" text DEFAULT 'IN_PROGRESS' NOT NULL,
	"price_per_kwh" double precision NOT NULL,
	"power_kw" double precision DEFAULT 0 NOT NULL,
	"energy_kwh" double precision DEFAULT 0 NOT NULL,
	"cost_eur" double precision DEFAULT 0 NOT NULL,
	"last_telemetry_seq" bigint DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"end_reason" text
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"event_type" text NOT NULL,
	"actor_type" text NOT NULL,
	"actor_id" text,
	"resource" text,
	"action" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"source_address" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "city_weather" (
	"city" text PRIMARY KEY NOT NULL,
	"temperature_c" double precision NOT NULL,
	"alert" boolean DEFAULT false NOT NULL,
	"alert_since" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "weather_locations" (
	"city" text PRIMARY KEY NOT NULL,
	"added_by" text DEFAULT 'operator' NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cp_credentials" ADD CONSTRAINT "cp_credentials_cp_id_charging_points_cp_id_fk" FOREIGN KEY ("cp_id") REFERENCES "public"."charging_points"("cp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cp_keys" ADD CONSTRAINT "cp_keys_cp_id_charging_points_cp_id_fk" FOREIGN KEY ("cp_id") REFERENCES "public"."charging_points"("cp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD CONSTRAINT "charging_sessions_cp_id_charging_points_cp_id_fk" FOREIGN KEY ("cp_id") REFERENCES "public"."charging_points"("cp_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "charging_sessions" ADD CONSTRAINT "charging_sessions_driver_id_drivers_driver_id_fk" FOREIGN KEY ("driver_id") REFERENCES "public"."drivers"("driver_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "charging_points_location_idx" ON "charging_points" USING btree ("location");--> statement-breakpoint
CREATE INDEX "cp_credentials_cp_idx" ON "cp_credentials" USING btree ("cp_id");--> statement-breakpoint
CREATE INDEX "cp_keys_cp_idx" ON "cp_keys" USING btree ("cp_id");--> statement-breakpoint
CREATE INDEX "charging_sessions_cp_idx" ON "charging_sessions" USING btree ("cp_id","status");--> statement-breakpoint
CREATE INDEX "charging_sessions_driver_idx" ON "charging_sessions" USING btree ("driver_id","started_at");--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_events_type_idx" ON "audit_events" USING btree ("event_type","at");--> statement-breakpoint
CREATE INDEX "audit_events_resource_idx" ON "audit_events" USING btree ("resource","at");