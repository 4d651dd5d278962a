/**
 * The Ed25519 key pairs made next to the TLS certificates by `evnet certs`:
 *  - the Registry's credential signing key (private half on the Registry's machine, public half
 *    on every machine that runs the API);
 *  - the control signing key, with which the API and Central's admin sign what they tell
 *    Central on the bus (private half on the API's machine and wherever Central's admin menu or
 *    `evnet central stop|resume|revoke` runs, public half wherever Central runs).
 * Private key files are readable by their owner only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKeyPair, publicPemFromPrivate } from "../crypto/credentials.ts";

export const SIGNING_KEY_FILE = "registry-signing-key.pem";
export const SIGNING_PUBLIC_KEY_FILE = "registry-signing-public.pem";
export const CONTROL_KEY_FILE = "control-signing-key.pem";
export const CONTROL_PUBLIC_KEY_FILE = "control-signing-public.pem";

export interface SigningKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
  /** False when both files were already there and were kept. */
  created: boolean;
}

/**
 * Makes a key pair in `dir` unless it exists. An existing private key is never replaced (that
 * would invalidate every credential issued, or every signature Central checks); a missing
 * public half is derived from it.
 */
async function ensureKeyPair(dir: string, privateName: string, publicName: string): Promise<SigningKeyFiles> {
  mkdirSync(dir, { recursive: true });
  const privateKeyFile = join(dir, privateName);
  const publicKeyFile = join(dir, publicName);
  if (existsSync(privateKeyFile)) {
    if (existsSync(publicKeyFile)) return { privateKeyFile, publicKeyFile, created: false };
    writeFileSync(publicKeyFile, publicPemFromPrivate(readFileSync(privateKeyFile, "utf8")), { mode: 0o644 });
    return { privateKeyFile, publicKeyFile, created: true };
  }
  const pair = await generateSigningKeyPair();
  writeFileSync(privateKeyFile, pair.privatePem, { mode: 0o600 });
  chmodSync(privateKeyFile, 0o600); // exactly owner-only, whatever the umask
  writeFileSync(publicKeyFile, pair.publicPem, { mode: 0o644 });
  return { privateKeyFile, publicKeyFile, created: true };
}

/** The Registry's credential signing key pair. */
export function ensureSigningKeys(dir: string): Promise<SigningKeyFiles> {
  return ensureKeyPair(dir, SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE);
}

/** The control signing key pair (API and Central's admin sign, Central verifies). */
export function ensureControlSigningKeys(dir: string): Promise<SigningKeyFiles> {
  return ensureKeyPair(dir, CONTROL_KEY_FILE, CONTROL_PUBLIC_KEY_FILE);
}
