CREATE TABLE "service_heartbeats" (
	"service" text NOT NULL,
	"instance" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"interval_ms" integer NOT NULL,
	"details" jsonb,
	CONSTRAINT "service_heartbeats_service_instance_pk" PRIMARY KEY("service","instance")
);
