import * as v from "valibot";
import { databaseEntries } from "../../config/common.ts";
import { bool, loadConfig, port, positiveNumber, secretToken } from "../../config/env.ts";
import { durationSeconds, filePath } from "../../config/identity.ts";

export const registryConfigSchema = v.object({
  ...databaseEntries,
  REGISTRY_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  REGISTRY_PORT: port(7002),
  /** TLS certificate and key from `evnet certs`; the Registry serves HTTPS only, unless the next flag. */
  REGISTRY_TLS_CERT: filePath("certs/server.pem"),
  REGISTRY_TLS_KEY: filePath("certs/server-key.pem"),
  /** Development only: serve plain HTTP, and only on a loopback host. */
  REGISTRY_INSECURE_HTTP: bool(false),
  /** The Ed25519 private key credentials are signed with (`evnet certs` makes it). */
  REGISTRY_SIGNING_KEY: filePath("certs/registry-signing-key.pem"),
  /** How long a credential is valid: 30d, 12h, 15m, 90s or seconds. */
  CREDENTIAL_TTL: durationSeconds("30d"),
  /** Price of a CP registered without one. */
  REGISTRY_DEFAULT_PRICE_PER_KWH: positiveNumber(0.3, "a price in EUR per kWh"),
  /** Registration and deregistration need `Authorization: Bearer <this>`. */
  EVNET_ENROLLMENT_TOKEN: secretToken(),
});

export type RegistryConfig = v.InferOutput<typeof registryConfigSchema>;

export function loadRegistryConfig(flags: Partial<Record<keyof RegistryConfig, unknown>> = {}): RegistryConfig {
  return loadConfig(registryConfigSchema, flags);
}
