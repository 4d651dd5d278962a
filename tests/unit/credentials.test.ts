import { beforeAll, describe, expect, test } from "bun:test";
import {
  CredentialError,
  type CredentialSigner,
  type CredentialVerifier,
  claimedSubject,
  createCredentialSigner,
  createCredentialVerifier,
  generateSigningKeyPair,
  publicPemFromPrivate,
} from "../../src/crypto/credentials.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function failure(verifier: CredentialVerifier, token: string, expectedCpId?: string): Promise<CredentialError> {
  try {
    await verifier.verify(token, expectedCpId);
  } catch (err) {
    if (err instanceof CredentialError) return err;
    throw err;
  }
  throw new Error("the credential was accepted");
}

describe("CP credentials", () => {
  let signer: CredentialSigner;
  let verifier: CredentialVerifier;
  let otherSigner: CredentialSigner;

  beforeAll(async () => {
    const pair = await generateSigningKeyPair();
    signer = await createCredentialSigner(pair.privatePem);
    verifier = await createCredentialVerifier(pair.publicPem);
    otherSigner = await createCredentialSigner((await generateSigningKeyPair()).privatePem);
  });

  test("a credential the registry issued verifies with the public key and names its CP", async () => {
    const issued = await signer.issue("CP_001", 3600);
    const verified = await verifier.verify(issued.token, "CP_001");
    expect(verified.cpId).toBe("CP_001");
    expect(verified.jti).toBe(issued.jti);
    expect(verified.expiresAt.getTime() - verified.issuedAt.getTime()).toBe(3600_000);
  });

  test("the credential carries the registry as issuer and Central as audience", async () => {
    const issued = await signer.issue("CP_001", 60);
    const claims = JSON.parse(Buffer.from(issued.token.split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ sub: "CP_001", iss: "evnet-registry", aud: "evnet-central", jti: issued.jti });
    expect(JSON.parse(Buffer.from(issued.token.split(".")[0]!, "base64url").toString()).alg).toBe("EdDSA");
  });

  test("an expired credential is refused as expired", async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const issued = await signer.issue("CP_001", 3600, twoHoursAgo);
    expect((await failure(verifier, issued.token)).code).toBe("expired");
  });

  test("a credential with alg none is refused before any signature check", async () => {
    const issued = await signer.issue("CP_001", 3600);
    const payload = issued.token.split(".")[1]!;
    const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${payload}.`;
    expect((await failure(verifier, unsigned)).code).toBe("algorithm_not_allowed");
  });

  test("a credential signed by another key is refused for its signature", async () => {
    const forged = await otherSigner.issue("CP_001", 3600);
    expect((await failure(verifier, forged.token)).code).toBe("bad_signature");
  });

  test("a credential whose claims were edited is refused for its signature", async () => {
    const issued = await signer.issue("CP_001", 3600);
    const [header, payload, signature] = issued.token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const edited = `${header}.${b64({ ...claims, sub: "CP_002" })}.${signature}`;
    expect((await failure(verifier, edited)).code).toBe("bad_signature");
  });

  test("another CP's credential is refused when presented for this CP", async () => {
    const issued = await signer.issue("CP_002", 3600);
    const err = await failure(verifier, issued.token, "CP_001");
    expect(err.code).toBe("cp_mismatch");
    expect(err.message).toContain("CP_001");
  });

  test("a credential for the wrong audience is refused for its claims", async () => {
    const { SignJWT, importPKCS8 } = await import("jose");
    const pair = await generateSigningKeyPair();
    const ownVerifier = await createCredentialVerifier(pair.publicPem);
    const key = await importPKCS8(pair.privatePem, "EdDSA");
    const wrongAudience = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject("CP_001")
      .setJti("cred_x")
      .setIssuedAt()
      .setExpirationTime("1h")
      .setIssuer("evnet-registry")
      .setAudience("someone-else")
      .sign(key);
    const err = await failure(ownVerifier, wrongAudience);
    expect(err.code).toBe("wrong_claims");
    expect(err.message).toContain("aud");
  });

  test("garbage is refused as malformed", async () => {
    expect((await failure(verifier, "not-a-jwt")).code).toBe("malformed");
    expect((await failure(verifier, "")).code).toBe("malformed");
  });

  test("the public key can be derived from the private key alone", async () => {
    const pair = await generateSigningKeyPair();
    expect(publicPemFromPrivate(pair.privatePem).trim()).toBe(pair.publicPem.trim());
  });

  test("the claimed subject of an unverifiable credential can be read for the audit log", async () => {
    const forged = await otherSigner.issue("CP_009", 60);
    expect(claimedSubject(forged.token)).toBe("CP_009");
    expect(claimedSubject("garbage")).toBeUndefined();
  });
});
