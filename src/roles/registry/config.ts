import * as v from "valibot";
import { brakeSettings, databaseSettings, logSettings } from "../../config/common.ts";
import { bool, port, positiveNumber } from "../../config/env.ts";
import { durationSeconds, enrollmentTokenSetting, filePath } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const registrySettings = defineSettings({
  REGISTRY_HOST: {
    flag: "--host <host>",
    help: "address the Registry listens on (0.0.0.0: every interface)",
    schema: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  },
  REGISTRY_PORT: { flag: "--port <port>", help: "port of the Registry", schema: port(7002) },
  REGISTRY_TLS_CERT: {
    flag: "--tls-cert <file>",
    help: "server certificate (from 'evnet certs'); the Registry serves HTTPS only",
    schema: filePath("certs/server.pem"),
  },
  REGISTRY_TLS_KEY: { flag: "--tls-key <file>", help: "the server certificate's private key", schema: filePath("certs/server-key.pem"), secret: "file" },
  ...databaseSettings,
  ...brakeSettings,
  REGISTRY_INSECURE_HTTP: { help: "development only: serve plain HTTP, and only on a loopback host", schema: bool(false) },
  REGISTRY_SIGNING_KEY: {
    flag: "--signing-key <file>",
    help: "the Ed25519 private key credentials are signed with (from 'evnet certs')",
    schema: filePath("certs/registry-signing-key.pem"),
    secret: "file",
  },
  CREDENTIAL_TTL: { help: "how long a credential is valid: 30d, 12h, 15m, 90s or seconds", schema: durationSeconds("30d") },
  REGISTRY_DEFAULT_PRICE_PER_KWH: { help: "price of a CP registered without one (EUR per kWh)", schema: positiveNumber(0.3, "a price in EUR per kWh") },
  EVNET_ENROLLMENT_TOKEN: { ...enrollmentTokenSetting, help: "monitors present it to register or deregister a CP (Authorization: Bearer); 16+ characters" },
  ...logSettings,
});

export const registryConfigSchema = schemaOf(registrySettings);
export type RegistryConfig = ConfigOf<typeof registrySettings>;

export function loadRegistryConfig(flags: FlagValues<typeof registrySettings> = {}): RegistryConfig {
  return loadSettings(registrySettings, flags);
}
