/** Signed bus messages: a service signs, Central verifies the key, the signature and the bus key it travels under. */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { createMessageSigner, createMessageVerifier, SignatureError } from "../../src/crypto/signed-messages.ts";

function pair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

const trusted = pair();
const signer = createMessageSigner(trusted.privatePem, "api");
const verifier = createMessageVerifier(trusted.publicPem);

function failure(wire: string, busKey = "CP_1"): string {
  try {
    verifier.verify(wire, busKey);
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
  return "accepted";
}

describe("a signed message", () => {
  test("verifies as signed, with its signer, a unique id and the time of signing", () => {
    const wire = signer.sign("CP_1", '{"type":"operator_stop"}', 1_700_000_000_000);
    const verified = verifier.verify(wire, "CP_1");
    expect(verified).toMatchObject({ kid: signer.keyId, signer: "api", ts: 1_700_000_000_000, body: '{"type":"operator_stop"}' });
    expect(verifier.verify(signer.sign("CP_1", "{}"), "CP_1").id).not.toBe(verified.id);
  });

  test("is refused when altered, moved to another bus key, unsigned, malformed or signed with another key", () => {
    const wire = signer.sign("CP_1", '{"type":"operator_resume"}');
    const altered = JSON.parse(wire);
    altered.body = '{"type":"operator_stop"}';
    expect(failure(JSON.stringify(altered))).toBe("bad_signature");
    const older = JSON.parse(wire);
    older.ts -= 1;
    expect(failure(JSON.stringify(older))).toBe("bad_signature");
    expect(failure(wire, "CP_2")).toBe("bad_signature");
    expect(failure('{"type":"operator_stop","cp_id":"CP_1"}')).toBe("unsigned");
    expect(failure("not json")).toBe("unsigned");
    expect(failure(JSON.stringify({ ...JSON.parse(wire), kid: "k\u0000" }))).toBe("malformed");
    const other = createMessageSigner(pair().privatePem, "api");
    expect(failure(other.sign("CP_1", "{}"))).toBe("unknown_signer");
  });

  test("verifies under any of several trusted keys (while one replaces another)", () => {
    const next = pair();
    const both = createMessageVerifier(`${trusted.publicPem}\n${next.publicPem}`);
    expect(both.keyIds).toHaveLength(2);
    expect(both.verify(createMessageSigner(next.privatePem, "api").sign("K", "{}"), "K").body).toBe("{}");
    expect(both.verify(signer.sign("K", "{}"), "K").body).toBe("{}");
  });

  test("refuses to be made from a key that is not Ed25519", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(() => createMessageSigner(rsa, "api")).toThrow(/Ed25519/);
    expect(() => createMessageVerifier("no key here")).toThrow(/no PEM public key/);
  });
});
