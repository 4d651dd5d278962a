/**
 * What a monitor needs to know for its identity: where the Registry and the API answer, the CA
 * it trusts them through, the enrollment token (only to register or deregister), and where it
 * keeps its credential and key. Spread `identitySettings` into the monitor's table.
 */
import * as v from "valibot";
import { apiUrlSetting, caFileOf, dataDirSetting, discoveredCaFileSetting } from "../../config/common.ts";
import { positiveNumber, url } from "../../config/env.ts";
import { enrollmentTokenSetting, optionalSecret } from "../../config/identity.ts";
import { defineSettings } from "../../config/settings.ts";

export { caFileOf };

export const identitySettings = defineSettings({
  REGISTRY_URL: {
    flag: "--registry-url <url>",
    help: "where the Registry answers (it serves HTTPS only)",
    schema: v.optional(url(), "https://127.0.0.1:7002"),
  },
  API_URL: apiUrlSetting,
  EVNET_CA_FILE: discoveredCaFileSetting,
  EVNET_ENROLLMENT_TOKEN: optionalSecret(
    { ...enrollmentTokenSetting, help: `${enrollmentTokenSetting.help} (needed only for that; ask the operator)` },
    v.optional(v.pipe(v.string(), v.minLength(16, "expected at least 16 characters"))),
  ),
  EVNET_DATA_DIR: { ...dataDirSetting, help: "folder where the CP's credential and channel key are kept", secret: "file" },
  KEY_CHECK_INTERVAL: {
    help: "seconds between checks that the CP's key is still its active one (revocation fallback)",
    schema: positiveNumber(5, "a number of seconds"),
  },
});

export interface IdentityConfig {
  REGISTRY_URL: string;
  API_URL: string;
  EVNET_CA_FILE?: string;
  EVNET_ENROLLMENT_TOKEN?: string;
  EVNET_DATA_DIR: string;
  KEY_CHECK_INTERVAL: number;
}
