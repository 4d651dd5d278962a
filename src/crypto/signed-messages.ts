/**
 * Signed bus messages: what a service (the API, Central's admin) tells Central on the control
 * topic is signed with its Ed25519 key, so that Central acts only on messages a holder of that
 * key sent, unaltered, for the bus key they travel under. Each carries a unique id and the time
 * of signing: the verifier's caller refuses one seen before or too old.
 *
 * On the wire: `{"v":1,"kid":..,"signer":..,"id":..,"ts":..,"body":"<the message as JSON>","sig":..}`
 * with the signature over the fields and the bus key. Only the body is the message; everything
 * else is there to check it.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomUUID, sign, verify } from "node:crypto";

export interface SignedHeader {
  v: 1;
  /** The signing key's id: the start of the SHA-256 of its public key. */
  kid: string;
  /** Who signed it, in words: `api`, `central-admin`. */
  signer: string;
  /** Unique per message. */
  id: string;
  /** Milliseconds since the epoch at signing. */
  ts: number;
}

interface SignedWire extends SignedHeader {
  body: string;
  sig: string;
}

export interface Verified extends SignedHeader {
  body: string;
}

/** unsigned: not a signed message at all (plain JSON, say); unknown_signer: signed with a key not trusted here. */
export type SignatureFailure = "unsigned" | "malformed" | "unknown_signer" | "bad_signature";

export class SignatureError extends Error {
  override name = "SignatureError";
  constructor(
    readonly code: SignatureFailure,
    message: string,
    /** what could be read of the header, for the audit entry */
    readonly header?: Partial<SignedHeader>,
  ) {
    super(message);
  }
}

export class SigningKeyFileError extends Error {
  override name = "SigningKeyFileError";
}

const KID = /^[0-9a-f]{16}$/;
const SIGNER = /^[A-Za-z0-9_.:-]{1,64}$/;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

function signedBytes(h: SignedHeader, busKey: string, body: string): Buffer {
  return Buffer.from(`evnet/signed/v${h.v}\n${h.kid}\n${h.signer}\n${h.id}\n${h.ts}\n${busKey}\n${body}`, "utf8");
}

/** A public key's id: the first 8 bytes of the SHA-256 of its DER form, in hex. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

export interface MessageSigner {
  readonly keyId: string;
  readonly signer: string;
  /** The wire form of `body` (a JSON text) signed for the bus key it will travel under. */
  sign(busKey: string, body: string, now?: number): string;
}

export function createMessageSigner(privatePem: string, signer: string): MessageSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(privatePem);
  } catch {
    throw new SigningKeyFileError("not a PEM private key");
  }
  if (key.asymmetricKeyType !== "ed25519") throw new SigningKeyFileError("not an Ed25519 private key; make one with 'evnet certs'");
  if (!SIGNER.test(signer)) throw new SigningKeyFileError(`signer name '${signer}' must be 1-64 letters, digits, '_', '.', ':' or '-'`);
  const kid = keyIdOf(key);
  return {
    keyId: kid,
    signer,
    sign(busKey, body, now = Date.now()) {
      const header: SignedHeader = { v: 1, kid, signer, id: randomUUID(), ts: now };
      const sig = sign(null, signedBytes(header, busKey, body), key).toString("base64url");
      return JSON.stringify({ ...header, body, sig } satisfies SignedWire);
    },
  };
}

export interface MessageVerifier {
  /** The key ids it trusts. */
  readonly keyIds: string[];
  /** Checks the format, the key and the signature (throws SignatureError); freshness and replay are the caller's. */
  verify(wire: Uint8Array | string, busKey: string): Verified;
}

/** Trusts every Ed25519 public key in the PEM text (several, while a key is being replaced). */
export function createMessageVerifier(publicPem: string): MessageVerifier {
  const blocks = publicPem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0) throw new SigningKeyFileError("no PEM public key in it; take it from 'evnet certs'");
  const keys = new Map<string, KeyObject>();
  for (const block of blocks) {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch {
      throw new SigningKeyFileError("a public key in it does not parse");
    }
    if (key.asymmetricKeyType !== "ed25519") throw new SigningKeyFileError("a public key in it is not Ed25519");
    keys.set(keyIdOf(key), key);
  }
  return {
    keyIds: [...keys.keys()],
    verify(wire, busKey) {
      const w = parse(wire);
      const header: SignedHeader = { v: 1, kid: w.kid, signer: w.signer, id: w.id, ts: w.ts };
      const key = keys.get(w.kid);
      if (!key) throw new SignatureError("unknown_signer", `signed with key ${w.kid}, which is not trusted here`, header);
      let ok = false;
      try {
        ok = verify(null, signedBytes(header, busKey, w.body), key, Buffer.from(w.sig, "base64url"));
      } catch {
        ok = false;
      }
      if (!ok)
        throw new SignatureError(
          "bad_signature",
          "the signature does not match: the message was altered, moved to another key or signed by someone else",
          header,
        );
      return { ...header, body: w.body };
    },
  };
}

function parse(wire: Uint8Array | string): SignedWire {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof wire === "string" ? wire : Buffer.from(wire).toString("utf8"));
  } catch {
    throw new SignatureError("unsigned", "not JSON");
  }
  const w = parsed as Partial<SignedWire> | null;
  if (w === null || typeof w !== "object" || Array.isArray(w)) throw new SignatureError("unsigned", "not a signed message");
  if (w.sig === undefined && w.kid === undefined) throw new SignatureError("unsigned", "the message carries no signature");
  // Only well-formed fields are repeated (in an audit entry): anything else may hold anything.
  const header = {
    kid: typeof w.kid === "string" && KID.test(w.kid) ? w.kid : undefined,
    signer: typeof w.signer === "string" && SIGNER.test(w.signer) ? w.signer : undefined,
  };
  const ok =
    w.v === 1 &&
    typeof w.kid === "string" &&
    KID.test(w.kid) &&
    typeof w.signer === "string" &&
    SIGNER.test(w.signer) &&
    typeof w.id === "string" &&
    ID.test(w.id) &&
    Number.isSafeInteger(w.ts) &&
    typeof w.body === "string" &&
    w.body.length <= 64 * 1024 &&
    typeof w.sig === "string" &&
    /^[A-Za-z0-9_-]{86}$/.test(w.sig);
  if (!ok) throw new SignatureError("malformed", "signature fields are missing or of the wrong form", header);
  return w as SignedWire;
}
