/**
 * OCPP basic-auth passwords: generated here (OCPP 1.6 security whitepaper: 16-40 characters),
 * shown once, stored only as a slow scrypt hash with its own salt and cost, and checked in
 * constant time. scrypt runs on a thread pool, so a check does not block the event loop.
 *
 * The cost. A password is 32 characters drawn at random from 57 (about 186 bits): no guessing
 * finds it, whatever the hash, so the slow hash is defence in depth (a stolen table costs 8 MiB
 * and tens of milliseconds per guess per hash), not what keeps the password. What the cost does
 * decide is how long chargers wait after a gateway restarts, when every charger's password is
 * checked afresh: N = 2^13, r = 8 (8 MiB) takes about 20-40 ms of a core here, so 10,000 chargers
 * cost a few core-minutes; Node's default (2^14) doubled that for no gain in safety. Hashes made
 * with other costs keep verifying: the cost is part of each stored hash.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** 2^13 × 8 × 128 bytes = 8 MiB per check. */
const COST = { N: 8_192, r: 8, p: 1 };
const KEY_BYTES = 32;

/** 32 characters an operator can type into a charger's web page: letters and digits only. */
export function newOcppPassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = randomBytes(64);
  let out = "";
  for (const b of bytes) {
    if (b >= 256 - (256 % alphabet.length)) continue; // no modulo bias
    out += alphabet[b % alphabet.length];
    if (out.length === 32) return out;
  }
  return out + newOcppPassword().slice(out.length);
}

function derive(password: Uint8Array | string, salt: Buffer, cost: typeof COST): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { ...cost, maxmem: 128 * cost.N * cost.r * 2 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** Whether `password` (as the charger sent it: bytes) matches a stored hash. A malformed hash never matches. */
export async function verifyPassword(password: Uint8Array | string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const powerOfTwo = cost.N > 1 && (cost.N & (cost.N - 1)) === 0;
  if (!powerOfTwo || cost.N > 1 << 20 || ![cost.r, cost.p].every((x) => Number.isSafeInteger(x) && x > 0 && x <= 64)) return false;
  const expected = Buffer.from(hash, "base64url");
  try {
    const got = await derive(password, Buffer.from(salt, "base64url"), cost);
    return got.length === expected.length && timingSafeEqual(got, expected);
  } catch {
    return false; // parameters the library refuses: no password matches them
  }
}

/**
 * A key for fingerprints of passwords already verified: random, made when a process starts, kept
 * only in its memory. A fingerprint under it proves nothing outside that process.
 */
export function newFingerprintKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** HMAC-SHA256 of a password under a fingerprint key: recognises a password verified before without the slow hash. */
export function passwordFingerprint(key: Uint8Array, password: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(password).digest());
}

export function sameFingerprint(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
