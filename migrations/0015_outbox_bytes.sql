-- The outbox keeps a message as it is published: sealed envelopes are binary now
-- (src/crypto/envelope.ts), and what waits in it from before (JSON text) is kept as its bytes.
ALTER TABLE "outbox" ALTER COLUMN "value" SET DATA TYPE bytea USING convert_to("value", 'UTF8');
