import * as v from "valibot";
import { busEntries, databaseEntries } from "../../config/common.ts";
import { loadConfig, optionalString, port, secretToken } from "../../config/env.ts";

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
});

export type ApiConfig = v.InferOutput<typeof apiConfigSchema>;

export function loadApiConfig(flags: Partial<Record<keyof ApiConfig, unknown>> = {}): ApiConfig {
  return loadConfig(apiConfigSchema, flags);
}
