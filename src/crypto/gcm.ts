/**
 * Opening AES-256-GCM messages, one or many: what the envelope opens a message with, and what an
 * opening thread (opening-thread.ts) does for a whole batch. Many go to a thread as one buffer:
 * each message's key, then its associated data, nonce and ciphertext as they stand on the wire,
 * packed one after another, so the batch crosses with a single transfer.
 */
import { createDecipheriv } from "node:crypto";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * One sealed message as opening takes it: the associated data, the nonce and the ciphertext
 * (its tag last) one after another, as the binary envelope carries them, so a message is handed
 * over as one view of its bytes.
 */
export interface GcmSealed {
  key: Uint8Array;
  /** the associated data, then the nonce, then the ciphertext with its tag */
  bytes: Uint8Array;
  /** how many of `bytes` are the associated data */
  aadLength: number;
}

/** Whether a message has the parts' lengths opening needs (else it cannot open). */
function sound(m: GcmSealed): boolean {
  return m.key.length === KEY_BYTES && m.aadLength >= 0 && m.bytes.length - m.aadLength - NONCE_BYTES >= TAG_BYTES;
}

/** The plaintext as UTF-8 text; undefined when the tag does not match (altered, or another key). */
export function gcmOpen(sealed: GcmSealed): string | undefined {
  if (!sound(sealed)) return undefined;
  const { key, bytes, aadLength } = sealed;
  const ctAt = aadLength + NONCE_BYTES;
  const tagAt = bytes.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(aadLength, ctAt));
    decipher.setAAD(bytes.subarray(0, aadLength));
    decipher.setAuthTag(bytes.subarray(tagAt));
    const body = decipher.update(bytes.subarray(ctAt, tagAt));
    decipher.final(); // checks the tag; GCM has nothing more to output
    return body.toString("utf8");
  } catch {
    return undefined;
  }
}

/** Each message's lengths at the front of a packed batch: its associated data's and all its bytes' (32 bits each). */
const LENGTHS_BYTES = 8;

/** The key packed for a message that cannot open: 32 zero bytes (and no bytes to open). */
const NO_KEY = new Uint8Array(KEY_BYTES);

/**
 * Packs messages into one buffer: first, for each message, the associated data's length and the
 * length of all its bytes (32-bit words, in this machine's order: the buffer stays in this
 * process), then each message's key and bytes. A message that cannot open (a key of another
 * length, bytes too short for a nonce and a tag) is packed with lengths of zero and a zero key:
 * it does not open there either. One native concatenation: copying each part into place from
 * JavaScript cost half as much again (docs/benchmarks.md, thirty-first round).
 */
export function packGcm(messages: GcmSealed[]): ArrayBuffer {
  const lengths = new Uint32Array((messages.length * LENGTHS_BYTES) / 4);
  const parts: Uint8Array[] = [new Uint8Array(lengths.buffer)];
  for (const [i, m] of messages.entries()) {
    if (!sound(m)) {
      parts.push(NO_KEY);
      continue;
    }
    lengths[2 * i] = m.aadLength;
    lengths[2 * i + 1] = m.bytes.length;
    parts.push(m.key, m.bytes);
  }
  const packed = Buffer.concat(parts);
  // A buffer of its own, to be handed over (a small concatenation may be a slice of a shared pool).
  const own = packed.byteOffset === 0 && packed.buffer.byteLength === packed.length;
  return own ? (packed.buffer as ArrayBuffer) : new Uint8Array(packed).buffer;
}

/** Opens what `packGcm` packed, in order: each plaintext, or null where the tag did not match. */
export function openPacked(buffer: ArrayBuffer, count: number): (string | null)[] {
  const texts: (string | null)[] = [];
  const indexBytes = count * LENGTHS_BYTES;
  if (buffer.byteLength < indexBytes) return Array.from({ length: count }, () => null);
  const lengths = new Uint32Array(buffer, 0, indexBytes / 4);
  const bytes = new Uint8Array(buffer);
  let at = indexBytes;
  for (let i = 0; i < count; i++) {
    const aadLength = lengths[2 * i]!;
    const length = lengths[2 * i + 1]!;
    const key = bytes.subarray(at, at + KEY_BYTES);
    const sealed = bytes.subarray(at + KEY_BYTES, at + KEY_BYTES + length);
    at += KEY_BYTES + length;
    texts.push(key.length === KEY_BYTES && sealed.length === length ? (gcmOpen({ key, bytes: sealed, aadLength }) ?? null) : null);
  }
  return texts;
}

/**
 * A batch's plaintexts as one text and where each ends (-1 for a message that did not open): how
 * they cross back from an opening thread. A list of strings crosses as one copy each, which cost
 * the receiving thread more than reading them as parts of one text (docs/benchmarks.md,
 * thirty-first round).
 */
export interface JoinedTexts {
  text: string;
  ends: Int32Array;
}

export function joinTexts(texts: (string | null)[]): JoinedTexts {
  const ends = new Int32Array(texts.length);
  let at = 0;
  for (const [i, text] of texts.entries()) {
    if (text === null) ends[i] = -1;
    else ends[i] = at += text.length;
  }
  return { text: texts.filter((t) => t !== null).join(""), ends };
}

/** The plaintexts `joinTexts` joined; undefined when what came is not that for `count` messages (so nothing of it is used). */
export function splitTexts(joined: unknown, count: number): (string | null)[] | undefined {
  const { text, ends } = (joined ?? {}) as Partial<JoinedTexts>;
  if (typeof text !== "string" || !(ends instanceof Int32Array) || ends.length !== count) return undefined;
  const texts: (string | null)[] = [];
  let at = 0;
  for (const end of ends) {
    if (end === -1) {
      texts.push(null);
      continue;
    }
    if (end < at || end > text.length) return undefined;
    texts.push(text.slice(at, end));
    at = end;
  }
  return at === text.length ? texts : undefined;
}
