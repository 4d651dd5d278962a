/**
 * Opening AES-256-GCM messages, one or many: what the envelope opens a message with, and what an
 * opening thread (opening-thread.ts) does for a whole batch. Many go to a thread as one buffer:
 * each message's key, nonce, associated data and ciphertext packed one after another, so the
 * batch crosses with a single transfer and no copy of each part.
 */
import { createDecipheriv } from "node:crypto";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** One sealed message as opening takes it. */
export interface GcmSealed {
  key: Uint8Array;
  nonce: Uint8Array;
  /** the associated data the tag covers */
  aad: Uint8Array;
  /** the ciphertext, its tag last */
  ct: Uint8Array;
}

/** The plaintext as UTF-8 text; undefined when the tag does not match (altered, or another key). */
export function gcmOpen(sealed: GcmSealed): string | undefined {
  const { key, nonce, aad, ct } = sealed;
  if (ct.length < TAG_BYTES || key.length !== KEY_BYTES || nonce.length !== NONCE_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    const body = decipher.update(ct.subarray(0, ct.length - TAG_BYTES));
    decipher.final(); // checks the tag; GCM has nothing more to output
    return body.toString("utf8");
  } catch {
    return undefined;
  }
}

/** Each message's part lengths before its parts: the associated data's and the ciphertext's. */
const LENGTHS_BYTES = 8;

/**
 * Packs messages into one buffer: per message, the associated data's length and the
 * ciphertext's (32 bits each), then the key, the nonce, the associated data and the ciphertext.
 * A message that cannot open (a key or nonce of another length, a ciphertext shorter than a tag)
 * is packed with zero bytes for its key and nonce and no ciphertext: it does not open there either.
 */
export function packGcm(messages: GcmSealed[]): ArrayBuffer {
  const sound = (m: GcmSealed) => m.key.length === KEY_BYTES && m.nonce.length === NONCE_BYTES && m.ct.length >= TAG_BYTES;
  let size = 0;
  for (const m of messages) size += LENGTHS_BYTES + KEY_BYTES + NONCE_BYTES + m.aad.length + (sound(m) ? m.ct.length : 0);
  const buffer = new ArrayBuffer(size);
  const out = Buffer.from(buffer);
  let at = 0;
  for (const m of messages) {
    const opens = sound(m);
    out.writeUInt32LE(m.aad.length, at);
    out.writeUInt32LE(opens ? m.ct.length : 0, at + 4);
    at += LENGTHS_BYTES;
    if (opens) {
      out.set(m.key, at);
      out.set(m.nonce, at + KEY_BYTES);
    } // else left zero: a new ArrayBuffer is
    at += KEY_BYTES + NONCE_BYTES;
    out.set(m.aad, at);
    at += m.aad.length;
    if (opens) {
      out.set(m.ct, at);
      at += m.ct.length;
    }
  }
  return buffer;
}

/** Opens what `packGcm` packed, in order: each plaintext, or null where the tag did not match. */
export function openPacked(buffer: ArrayBuffer, count: number): (string | null)[] {
  const bytes = Buffer.from(buffer);
  const texts: (string | null)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + LENGTHS_BYTES + KEY_BYTES + NONCE_BYTES > bytes.length) {
      texts.push(null);
      continue;
    }
    const aadLength = bytes.readUInt32LE(at);
    const ctLength = bytes.readUInt32LE(at + 4);
    at += LENGTHS_BYTES;
    const key = bytes.subarray(at, at + KEY_BYTES);
    const nonce = bytes.subarray(at + KEY_BYTES, at + KEY_BYTES + NONCE_BYTES);
    at += KEY_BYTES + NONCE_BYTES;
    const aad = bytes.subarray(at, at + aadLength);
    const ct = bytes.subarray(at + aadLength, at + aadLength + ctLength);
    at += aadLength + ctLength;
    texts.push(aad.length === aadLength && ct.length === ctLength ? (gcmOpen({ key, nonce, aad, ct }) ?? null) : null);
  }
  return texts;
}
