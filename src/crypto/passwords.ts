/**
 * OCPP basic-auth passwords: generated here (OCPP 1.6 security whitepaper: 16-40 characters),
 * shown once, stored only as a slow scrypt hash with its own salt and cost, and checked in
 * constant time. scrypt runs on libuv's thread pool, so a check does not block the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** 2^14 × 8 × 128 bytes = 16 MiB and tens of milliseconds per check (Node's default scrypt cost). */
const COST = { N: 16_384, r: 8, p: 1 };
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
