import * as v from "valibot";
import { apiServerSettings, brakeSettings, busSettings, caFileSetting, checkTlsPair, databaseSettings, logSettings } from "../../config/common.ts";
import { optionalString, secretToken, url } from "../../config/env.ts";
import {
  controlPublicKeySetting,
  controlSigningKeySetting,
  enrollmentTokenSetting,
  gatewayTokenSetting,
  masterKeySetting,
  operatorTokenSetting,
  optionalSecret,
  serviceTokenSetting,
} from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";

export const apiSettings = defineSettings({
  ...apiServerSettings,
  REGISTRY_URL: {
    flag: "--registry-url <url>",
    help: "where the Registry answers (https://host:port), so the dashboard shows its health",
    schema: v.optional(url()),
    example: "https://127.0.0.1:7002",
  },
  EVNET_CA_FILE: { ...caFileSetting, help: "CA certificate that signed the Registry's (the ca.pem of 'evnet certs')" },
  REGISTRY_PUBLIC_KEY: {
    flag: "--registry-public-key <file>",
    help: "the Registry's public key, to check CP credentials",
    schema: optionalString(),
    defaultText: "certs/registry-signing-public.pem",
  },
  ...databaseSettings,
  ...busSettings,
  ...brakeSettings,
  EVNET_OPERATOR_TOKEN: operatorTokenSetting,
  EVNET_SERVICE_TOKEN: serviceTokenSetting,
  EVNET_GATEWAY_TOKEN: optionalSecret(
    { ...gatewayTokenSetting, help: `${gatewayTokenSetting.help}; without it, that endpoint answers 503` },
    v.optional(secretToken()),
  ),
  EVNET_ENROLLMENT_TOKEN: optionalSecret(
    { ...enrollmentTokenSetting, help: "drivers register themselves with it (POST /ev/central/drivers); without it only operators register drivers" },
    v.optional(secretToken()),
  ),
  EVNET_MASTER_KEY: masterKeySetting,
  EVNET_CONTROL_SIGNING_KEY: { ...controlSigningKeySetting, help: "signs what the API tells Central on the bus (from 'evnet certs')" },
  EVNET_CONTROL_PUBLIC_KEY: {
    ...controlPublicKeySetting,
    help: "checks the live figures Central signs for sessions in progress (from 'evnet certs'); without it sessions show what their rows hold (up to CENTRAL_READINGS_INTERVAL old)",
  },
  ...logSettings,
});

export const apiConfigSchema = schemaOf(apiSettings);
export type ApiConfig = ConfigOf<typeof apiSettings>;

export function loadApiConfig(flags: FlagValues<typeof apiSettings> = {}): ApiConfig {
  return checkTlsPair(loadSettings(apiSettings, flags), "API_TLS_CERT", "API_TLS_KEY");
}
