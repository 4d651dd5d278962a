/**
 * The CP's state file, `<EVNET_DATA_DIR>/cp-<id>.json`: its registration, its credential and its
 * channel key. Written atomically and readable by its owner only (0600, in a 0700 folder),
 * because the key opens every message of the CP.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { ChannelKey } from "../../crypto/keys.ts";
import { KnownError } from "../../lib/errors.ts";
import { saveOwnerOnly } from "../../lib/private-file.ts";

const storedIdentitySchema = v.object({
  cp_id: v.string(),
  location: v.string(),
  price_per_kwh: v.optional(v.number()),
  credential: v.optional(v.string()),
  credential_expires_at: v.optional(v.string()),
  key_id: v.optional(v.string()),
  /** base64 of the 32-byte channel key */
  key: v.optional(v.string()),
  key_issued_at: v.optional(v.string()),
});

export type StoredIdentity = v.InferOutput<typeof storedIdentitySchema>;

/** The CP's identity cannot be had: a state file, the Registry or the API said no or is not there. */
export class IdentityError extends KnownError {
  override name = "IdentityError";
}

export function identityFile(dataDir: string, cpId: string): string {
  return join(dataDir, `cp-${cpId}.json`);
}

export function loadIdentity(dataDir: string, cpId: string): StoredIdentity | undefined {
  const file = identityFile(dataDir, cpId);
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new IdentityError(`${file} is not valid JSON; delete it and register again`);
  }
  const result = v.safeParse(storedIdentitySchema, parsed);
  if (!result.success || result.output.cp_id !== cpId) throw new IdentityError(`${file} is not ${cpId}'s state file; delete it and register again`);
  return result.output;
}

export function saveIdentity(dataDir: string, identity: StoredIdentity): void {
  saveOwnerOnly(dataDir, `cp-${identity.cp_id}.json`, identity);
}

export function forgetIdentity(dataDir: string, cpId: string): void {
  rmSync(identityFile(dataDir, cpId), { force: true });
}

export function channelKeyOf(identity: StoredIdentity | undefined): ChannelKey | undefined {
  if (!identity?.key_id || !identity.key) return undefined;
  const key = new Uint8Array(Buffer.from(identity.key, "base64"));
  return key.length === 32 ? { keyId: identity.key_id, key } : undefined;
}
