/**
 * What a monitor needs to know for its identity: where the Registry and the API answer, the CA
 * it trusts them through, the enrollment token (only to register or deregister), and where it
 * keeps its credential and key. Spread `identityConfigEntries` into the monitor's schema.
 */

import { existsSync } from "node:fs";
import * as v from "valibot";
import { optionalString, positiveNumber, url } from "../../config/env.ts";

export const DEFAULT_CA_FILE = "certs/ca.pem";

export const identityConfigEntries = {
  REGISTRY_URL: v.optional(url(), "https://127.0.0.1:7002"),
  API_URL: v.optional(url(), "https://127.0.0.1:8000"),
  /** The CA that signed the Registry's and API's certificates (default certs/ca.pem when present). */
  EVNET_CA_FILE: optionalString(),
  /** Needed only to register or deregister; checked when used. */
  EVNET_ENROLLMENT_TOKEN: v.optional(v.pipe(v.string(), v.minLength(16, "expected at least 16 characters"))),
  /** Where the CP's state file (credential and key, owner-only) is kept. */
  EVNET_DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), ".evnet"),
  /** Seconds between checks that the CP's key is still its active one (revocation fallback). */
  KEY_CHECK_INTERVAL: positiveNumber(5, "a number of seconds"),
};

export interface IdentityConfig {
  REGISTRY_URL: string;
  API_URL: string;
  EVNET_CA_FILE?: string;
  EVNET_ENROLLMENT_TOKEN?: string;
  EVNET_DATA_DIR: string;
  KEY_CHECK_INTERVAL: number;
}

/** The CA file to trust: the configured one, else the default from `evnet certs` if it is there. */
export function caFileOf(config: Pick<IdentityConfig, "EVNET_CA_FILE">): string | undefined {
  if (config.EVNET_CA_FILE) return config.EVNET_CA_FILE;
  return existsSync(DEFAULT_CA_FILE) ? DEFAULT_CA_FILE : undefined;
}
