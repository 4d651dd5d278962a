/**
 * Envelopes taken apart and put back together, for tests that alter one on the wire. The binary
 * format's fields (src/crypto/envelope.ts) are read and written here on their own, not with the
 * code under test, and format 2 (the JSON evnet wrote before) is sealed as it was, to show that
 * it still opens and that its alterations are still refused.
 */
import { createCipheriv, randomBytes } from "node:crypto";

/** A binary envelope's fields; the texts may be anything a test wants to send (NULs, too long...). */
export interface WireFields {
  sub: string;
  kid: string;
  sender: string;
  seq: number;
  ts: number;
  nonce: Buffer;
  /** the ciphertext, its 16-byte tag last */
  ct: Buffer;
}

/** The fields of a binary envelope as it travels. */
export function fieldsOf(wire: Uint8Array | string): WireFields {
  if (typeof wire === "string" || wire[0] !== 3) throw new Error("not a binary envelope");
  const b = Buffer.from(wire);
  let at = 1;
  const text = () => {
    const n = b[at]!;
    at += 1 + n;
    return b.toString("latin1", at - n, at);
  };
  const sub = text();
  const kid = text();
  const sender = text();
  const seq = b.readDoubleBE(at);
  const ts = b.readDoubleBE(at + 8);
  at += 16;
  return { sub, kid, sender, seq, ts, nonce: b.subarray(at, at + 12), ct: b.subarray(at + 12) };
}

/** A binary envelope made of `f` as given (nothing checked, nothing sealed again). */
export function wireOf(f: WireFields): Buffer {
  const text = (t: string) => {
    const bytes = Buffer.from(t, "latin1");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  };
  const numbers = Buffer.alloc(16);
  numbers.writeDoubleBE(f.seq, 0);
  numbers.writeDoubleBE(f.ts, 8);
  return Buffer.concat([Buffer.from([3]), text(f.sub), text(f.kid), text(f.sender), numbers, f.nonce, f.ct]);
}

/** The envelope with some fields changed, its nonce and ciphertext as they were. */
export function withFields(wire: Uint8Array | string, change: Partial<WireFields>): Buffer {
  return wireOf({ ...fieldsOf(wire), ...change });
}

/** The envelope with one bit of its ciphertext (or tag, counting from the end with a negative index) flipped. */
export function withFlippedBit(wire: Uint8Array | string, index = 0): Buffer {
  const f = fieldsOf(wire);
  const ct = Buffer.from(f.ct);
  const i = index < 0 ? ct.length + index : index;
  ct[i] = ct[i]! ^ 0x01;
  return wireOf({ ...f, ct });
}

/** A format-2 (JSON) envelope, sealed the way evnet sealed before the binary format. */
export function sealJson(h: { sub: string; kid: string; sender: string; seq: number; ts?: number }, key: Uint8Array, payload: unknown): string {
  const ts = h.ts ?? Date.now();
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(`evnet/envelope/v2|${h.sub}|${h.kid}|${h.sender}|${h.seq}|${ts}`));
  const body = cipher.update(JSON.stringify(payload), "utf8");
  cipher.final();
  const ct = Buffer.concat([body, cipher.getAuthTag()]).toString("base64url");
  return JSON.stringify({ v: 2, sub: h.sub, kid: h.kid, sender: h.sender, seq: h.seq, ts, nonce: nonce.toString("base64url"), ct });
}
