/**
 * The Registry's credential signing key pair (Ed25519), made next to the TLS certificates by
 * `evnet certs`. The private key file is readable by its owner only and belongs on the
 * Registry's machine; the public key goes to every machine that runs the API.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKeyPair, publicPemFromPrivate } from "../crypto/credentials.ts";

export const SIGNING_KEY_FILE = "registry-signing-key.pem";
export const SIGNING_PUBLIC_KEY_FILE = "registry-signing-public.pem";

export interface SigningKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
  /** False when both files were already there and were kept. */
  created: boolean;
}

/**
 * Makes the key pair in `dir` unless it exists. An existing private key is never replaced
 * (that would invalidate every credential issued); a missing public half is derived from it.
 */
export async function ensureSigningKeys(dir: string): Promise<SigningKeyFiles> {
  mkdirSync(dir, { recursive: true });
  const privateKeyFile = join(dir, SIGNING_KEY_FILE);
  const publicKeyFile = join(dir, SIGNING_PUBLIC_KEY_FILE);
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
