/**
 * Channel keys: a fresh random 256-bit AES key per authentication of a CP or a driver,
 * identified by a key id, stored only wrapped (AES-256-GCM) under the operator's master key,
 * bound to its subject and id.
 */

import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import * as v from "valibot";
import { KnownError } from "../lib/errors.ts";
import type { Subject } from "./envelope.ts";

/** 32 bytes written in base64url, as a message carries a key or a secret (a channel key, a stop token, a stop proof). */
export const base64url32Schema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, "expected 32 bytes in base64url"));

export interface ChannelKey {
  keyId: string;
  key: Uint8Array;
}

export class KeyError extends KnownError {
  override name = "KeyError";
}

/** A fresh key; a driver's key id says so (`dk_`), a CP's keeps the form it always had (`k_`). */
export function newChannelKey(type: Subject["type"] = "cp"): ChannelKey {
  return { keyId: `${type === "driver" ? "dk" : "k"}_${randomUUID()}`, key: new Uint8Array(randomBytes(32)) };
}

/**
 * The master key may be given as 64 hex characters or base64 of 32 bytes; any other string of
 * at least 32 characters is stretched with SHA-256 (a passphrase an operator typed).
 */
export function parseMasterKey(text: string): Uint8Array {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, "hex"));
  const b64 = Buffer.from(text, "base64");
  if (b64.length === 32 && /^[A-Za-z0-9+/_-]+=*$/.test(text)) return new Uint8Array(b64);
  if (text.length < 32) throw new KeyError("master key must be 32 bytes (64 hex chars or base64) or a passphrase of 32+ characters");
  return new Uint8Array(createHash("sha256").update(text).digest());
}

/** Binds a wrapped key to whose it is (a CP's keys wrap exactly as they always have). */
function aad(subject: Subject, keyId: string): Buffer {
  return Buffer.from(`evnet/${subject.type}-key/v1|${subject.id}|${keyId}`);
}

export function wrapKey(master: Uint8Array, subject: Subject, keyId: string, key: Uint8Array): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", master, nonce);
  cipher.setAAD(aad(subject, keyId));
  const ct = Buffer.concat([cipher.update(key), cipher.final()]);
  return `v1.${nonce.toString("base64url")}.${Buffer.concat([ct, cipher.getAuthTag()]).toString("base64url")}`;
}

export function unwrapKey(master: Uint8Array, subject: Subject, keyId: string, wrapped: string): Uint8Array {
  const [version, nonceB64, body] = wrapped.split(".");
  if (version !== "v1" || !nonceB64 || !body) throw new KeyError("wrapped key has an unknown format");
  const raw = Buffer.from(body, "base64url");
  if (raw.length < 16) throw new KeyError("wrapped key is truncated");
  try {
    const decipher = createDecipheriv("aes-256-gcm", master, Buffer.from(nonceB64, "base64url"));
    decipher.setAAD(aad(subject, keyId));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return new Uint8Array(Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]));
  } catch {
    throw new KeyError("wrapped key does not open under this master key (wrong EVNET_MASTER_KEY?)");
  }
}

/** Compares secrets without leaking where they differ through timing. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export function randomHex(bytes = 32): string {
  return randomBytes(bytes).toString("hex");
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
