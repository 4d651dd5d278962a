CREATE TABLE "city_coordinates" (
	"city_key" text PRIMARY KEY NOT NULL,
	"city" text NOT NULL,
	"latitude" double precision NOT NULL,
	"longitude" double precision NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "session_samples" (
	"session_id" text NOT NULL,
	"cp_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"power_kw" double precision NOT NULL,
	"energy_kwh" double precision NOT NULL,
	CONSTRAINT "session_samples_session_id_at_pk" PRIMARY KEY("session_id","at")
);
--> statement-breakpoint
CREATE INDEX "session_samples_cp_at_idx" ON "session_samples" USING btree ("cp_id","at");--> statement-breakpoint
CREATE INDEX "session_samples_at_idx" ON "session_samples" USING btree ("at");--> statement-breakpoint
CREATE INDEX "charging_sessions_started_idx" ON "charging_sessions" USING btree ("started_at");