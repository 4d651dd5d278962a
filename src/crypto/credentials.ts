/**
 * CP credentials: JWTs the Registry signs with its private Ed25519 key (EdDSA) and Central
 * verifies with the public key only. Claims: `sub` = CP id, `jti` = credential id (the Registry
 * keeps the one current jti per CP), `iat`, `exp`, `iss` = evnet-registry, `aud` = evnet-central.
 *
 * Verification accepts EdDSA only, so `alg: none`, HMAC tricks and other algorithms fail before
 * any signature check. Whether the credential is still the CP's current one is the caller's
 * check (it needs the database).
 */

import { createPrivateKey, createPublicKey, randomUUID } from "node:crypto";
import { decodeJwt, errors, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, importSPKI, jwtVerify, SignJWT } from "jose";
import { printable } from "../domain/ids.ts";
import { KnownError } from "../lib/errors.ts";

export const CREDENTIAL_ISSUER = "evnet-registry";
export const CREDENTIAL_AUDIENCE = "evnet-central";
const ALGORITHM = "EdDSA";

export interface SigningKeyPair {
  privatePem: string;
  publicPem: string;
}

export class SigningKeyError extends KnownError {
  override name = "SigningKeyError";
}

export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { crv: "Ed25519", extractable: true });
  return { privatePem: await exportPKCS8(privateKey), publicPem: await exportSPKI(publicKey) };
}

/** The public half of a private key PEM, so the Registry needs one file only. */
export function publicPemFromPrivate(privatePem: string): string {
  try {
    return createPublicKey(createPrivateKey(privatePem)).export({ type: "spki", format: "pem" }).toString();
  } catch {
    throw new SigningKeyError("the signing key is not a PEM private key");
  }
}

export interface IssuedCredential {
  token: string;
  jti: string;
  cpId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface CredentialSigner {
  /** `now` is for tests that need an already expired credential. */
  issue(cpId: string, ttlSeconds: number, now?: Date): Promise<IssuedCredential>;
}

export async function createCredentialSigner(privatePem: string): Promise<CredentialSigner> {
  let key: CryptoKey;
  try {
    key = await importPKCS8(privatePem, ALGORITHM);
  } catch {
    throw new SigningKeyError("the signing key is not an Ed25519 PEM private key (PKCS#8); make one with 'evnet certs'");
  }
  return {
    async issue(cpId, ttlSeconds, now = new Date()) {
      const jti = `cred_${randomUUID()}`;
      const iat = Math.floor(now.getTime() / 1000);
      const exp = iat + ttlSeconds;
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
        .setSubject(cpId)
        .setJti(jti)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setIssuer(CREDENTIAL_ISSUER)
        .setAudience(CREDENTIAL_AUDIENCE)
        .sign(key);
      return { token, jti, cpId, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
    },
  };
}

export type CredentialFailure = "malformed" | "algorithm_not_allowed" | "bad_signature" | "expired" | "wrong_claims" | "cp_mismatch";

export class CredentialError extends KnownError {
  override name = "CredentialError";
  constructor(
    readonly code: CredentialFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiedCredential {
  cpId: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface CredentialVerifier {
  /** Throws CredentialError; `expectedCpId`, when given, must be the credential's subject. */
  verify(token: string, expectedCpId?: string): Promise<VerifiedCredential>;
}

export async function createCredentialVerifier(publicPem: string): Promise<CredentialVerifier> {
  let key: CryptoKey;
  try {
    key = await importSPKI(publicPem, ALGORITHM);
  } catch {
    throw new SigningKeyError("the registry public key is not an Ed25519 PEM public key (SPKI); take it from 'evnet certs'");
  }
  return {
    async verify(token, expectedCpId) {
      let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: CREDENTIAL_ISSUER,
          audience: CREDENTIAL_AUDIENCE,
          requiredClaims: ["sub", "jti", "iat", "exp"],
        }));
      } catch (err) {
        throw toCredentialError(err);
      }
      const { sub, jti, iat, exp } = payload as { sub: string; jti: string; iat: number; exp: number };
      if (expectedCpId !== undefined && sub !== expectedCpId)
        throw new CredentialError("cp_mismatch", `the credential was issued to another charging point, not ${expectedCpId}`);
      return { cpId: sub, jti, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
    },
  };
}

function toCredentialError(err: unknown): CredentialError {
  if (err instanceof errors.JWTExpired) return new CredentialError("expired", "the credential has expired; register again to get a new one");
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return new CredentialError("algorithm_not_allowed", "the credential is not signed with the registry's algorithm (EdDSA)");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new CredentialError("bad_signature", "the credential's signature is not the registry's");
  if (err instanceof errors.JWTClaimValidationFailed)
    return new CredentialError("wrong_claims", `the credential's '${err.claim}' claim is not acceptable (${err.reason})`);
  return new CredentialError("malformed", "the credential is not a well-formed JWT");
}

/**
 * The subject a credential claims, WITHOUT verifying it: only to name the claimed CP in an
 * audit entry about a credential that failed verification.
 */
export function claimedSubject(token: string): string | undefined {
  try {
    const sub = decodeJwt(token).sub;
    return typeof sub === "string" ? printable(sub) : undefined;
  } catch {
    return undefined;
  }
}
