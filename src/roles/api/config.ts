import * as v from "valibot";
import { busEntries, databaseEntries } from "../../config/common.ts";
import { loadConfig, optionalString, port, secretToken, url } from "../../config/env.ts";
import { masterKey } from "../../config/identity.ts";

export const apiConfigSchema = v.object({
  ...databaseEntries,
  ...busEntries,
  API_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  API_PORT: port(8000),
  /** TLS certificate and key (from `evnet certs`); without them the API serves plain HTTP. */
  API_TLS_CERT: optionalString(),
  API_TLS_KEY: optionalString(),
  EVNET_OPERATOR_TOKEN: secretToken(),
  EVNET_SERVICE_TOKEN: secretToken(),
  /** The OCPP gateways' token: it asks for the channel key of a charger it has authenticated (without it, that endpoint answers 503). */
  EVNET_GATEWAY_TOKEN: v.optional(secretToken()),
  /** Where the Registry answers, so the dashboard can show its health (https://host:port). */
  REGISTRY_URL: v.optional(url()),
  /** The CA that signed the Registry's certificate (from `evnet certs`). */
  EVNET_CA_FILE: optionalString(),
  /** Wraps the CP channel keys stored in the database (the API refuses to start without it). */
  EVNET_MASTER_KEY: masterKey(),
  /** The Registry's public key, to verify CP credentials (default certs/registry-signing-public.pem). */
  REGISTRY_PUBLIC_KEY: optionalString(),
});

export type ApiConfig = v.InferOutput<typeof apiConfigSchema>;

export function loadApiConfig(flags: Partial<Record<keyof ApiConfig, unknown>> = {}): ApiConfig {
  return loadConfig(apiConfigSchema, flags);
}
