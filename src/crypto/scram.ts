/**
 * SCRAM credentials (RFC 5802) as a Kafka broker stores them: the salted password, never the
 * password itself. `evnet kafka-acls` sends these to the broker to create or update a principal.
 */
import { pbkdf2Sync, randomBytes } from "node:crypto";

export type ScramMechanism = "SCRAM-SHA-512" | "SCRAM-SHA-256";

/** Kafka accepts 4096 to 16384 iterations. */
export const SCRAM_ITERATIONS = 8192;

export interface ScramCredential {
  mechanism: ScramMechanism;
  iterations: number;
  salt: Buffer;
  saltedPassword: Buffer;
}

/** SaltedPassword := Hi(password, salt, i), which is PBKDF2 with the mechanism's HMAC. */
export function scramCredential(password: string, mechanism: ScramMechanism, salt: Buffer = randomBytes(32)): ScramCredential {
  const [digest, length] = mechanism === "SCRAM-SHA-512" ? (["sha512", 64] as const) : (["sha256", 32] as const);
  return { mechanism, iterations: SCRAM_ITERATIONS, salt, saltedPassword: pbkdf2Sync(password.normalize("NFKC"), salt, SCRAM_ITERATIONS, length, digest) };
}

/** A password for a new principal: 32 random bytes, URL-safe base64 (nothing to quote in a file or variable). */
export function newPrincipalPassword(): string {
  return randomBytes(32).toString("base64url");
}
