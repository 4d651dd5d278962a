/**
 * The API's credential verifier, from the Registry's public key. A key file the operator named
 * must load, or the API refuses to start; with none named, the default file from `evnet certs`
 * is used if it is there, and otherwise CP authentication answers 503 (logged at start).
 */
import { existsSync } from "node:fs";
import { ConfigError, settingLabel } from "../../config/env.ts";
import { readSettingFile } from "../../config/files.ts";
import { type CredentialVerifier, createCredentialVerifier, SigningKeyError } from "../../crypto/credentials.ts";
import type { Logger } from "../../lib/log.ts";
import type { ApiConfig } from "./config.ts";

export const DEFAULT_REGISTRY_PUBLIC_KEY = "certs/registry-signing-public.pem";

export async function loadCredentialVerifier(config: Pick<ApiConfig, "REGISTRY_PUBLIC_KEY">, log: Logger): Promise<CredentialVerifier | undefined> {
  const file = config.REGISTRY_PUBLIC_KEY ?? DEFAULT_REGISTRY_PUBLIC_KEY;
  if (!config.REGISTRY_PUBLIC_KEY && !existsSync(file)) {
    log.warn("CP authentication is off: no Registry public key (set REGISTRY_PUBLIC_KEY or run 'evnet certs')", { looked_for: file });
    return undefined;
  }
  const pem = readSettingFile("REGISTRY_PUBLIC_KEY", file, "copy the Registry's registry-signing-public.pem (made by 'evnet certs') to this machine");
  try {
    return await createCredentialVerifier(pem);
  } catch (err) {
    if (err instanceof SigningKeyError) throw new ConfigError(`${settingLabel("REGISTRY_PUBLIC_KEY")}: ${file}: ${err.message}`);
    throw err;
  }
}
