/**
 * The envelope every CP <-> Central bus message travels in: AES-256-GCM under the CP's channel
 * key, a fresh 96-bit nonce per message, and the CP id, key id, sender and sequence number
 * authenticated as associated data. Only those routing fields are readable on the wire.
 *
 * Opening checks, in order: the format, the key (known, not revoked, belonging to the claimed
 * CP), the authentication tag, and the sequence (greater than the last accepted from that
 * sender under that key). Each failure has its own code so it can be audited with its reason.
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { isCleanText, isId } from "../domain/ids.ts";
import { KnownError } from "../lib/errors.ts";

export interface EnvelopeHeader {
  /** format version */
  v: 1;
  cp: string;
  kid: string;
  /** who sent it: `engine:CP_001`, `monitor:CP_001`, `central:<instance>` */
  sender: string;
  /** strictly increasing per sender and key */
  seq: number;
  /** milliseconds since the epoch at sealing */
  ts: number;
}

export interface SealedEnvelope extends EnvelopeHeader {
  nonce: string;
  ct: string;
}

export type EnvelopeFailure = "malformed" | "unknown_key" | "revoked_key" | "cp_mismatch" | "tampered" | "replayed";

export class EnvelopeError extends KnownError {
  override name = "EnvelopeError";
  constructor(
    readonly code: EnvelopeFailure,
    message: string,
    /** what could be read of the header, for the audit entry */
    readonly header?: Partial<EnvelopeHeader>,
  ) {
    super(message);
  }
}

export interface KeyInfo {
  key: Uint8Array;
  cpId: string;
  revoked: boolean;
  /**
   * A key replaced by a new authentication (not revoked for cause) still opens what was sealed
   * with it up to this time (ms since the epoch): messages already on their way stay good.
   */
  sealedUntil?: number;
}

/** Finds a channel key by id (a cache in front of the database, usually). */
export type KeyLookup = (keyId: string) => KeyInfo | undefined | Promise<KeyInfo | undefined>;

/** Replay guard: returns the last accepted sequence for (key, sender), or undefined. */
export interface SequenceStore {
  last(keyId: string, sender: string): number | undefined | Promise<number | undefined>;
}

function associatedData(h: EnvelopeHeader): Buffer {
  return Buffer.from(`evnet/envelope/v${h.v}|${h.cp}|${h.kid}|${h.sender}|${h.seq}|${h.ts}`);
}

/**
 * A sender's sequence: starts from the clock in microseconds so it keeps rising across restarts
 * without being stored, then counts up one per message.
 */
export class SequenceCounter {
  private last = 0;
  next(): number {
    this.last = Math.max(this.last + 1, Date.now() * 1000);
    return this.last;
  }
}

export function seal(header: Omit<EnvelopeHeader, "v" | "ts"> & { ts?: number }, key: Uint8Array, payload: unknown): string {
  const h: EnvelopeHeader = { v: 1, cp: header.cp, kid: header.kid, sender: header.sender, seq: header.seq, ts: header.ts ?? Date.now() };
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(associatedData(h));
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final(), cipher.getAuthTag()]);
  const sealed: SealedEnvelope = { ...h, nonce: nonce.toString("base64url"), ct: ct.toString("base64url") };
  return JSON.stringify(sealed);
}

/** A sender as a header may name it (`engine:CP_001`, `central:<instance>`): 1-128 characters, no control character. */
const isSender = (value: unknown): value is string => typeof value === "string" && value.length > 0 && value.length <= 128 && isCleanText(value);

/** Reads the header without opening: enough to route and to audit. Throws `malformed`. */
export function readHeader(wire: string | Uint8Array): SealedEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof wire === "string" ? wire : Buffer.from(wire).toString("utf8"));
  } catch {
    throw new EnvelopeError("malformed", "not an envelope (invalid JSON)");
  }
  const e = parsed as Partial<SealedEnvelope> | null;
  const ok =
    e !== null &&
    typeof e === "object" &&
    e.v === 1 &&
    isId(e.cp) &&
    isId(e.kid) &&
    isSender(e.sender) &&
    Number.isSafeInteger(e.seq) &&
    (e.seq as number) > 0 &&
    Number.isSafeInteger(e.ts) &&
    typeof e.nonce === "string" &&
    typeof e.ct === "string";
  if (!ok) {
    const header =
      e && typeof e === "object" ? { cp: typeof e.cp === "string" ? e.cp : undefined, kid: typeof e.kid === "string" ? e.kid : undefined } : undefined;
    throw new EnvelopeError("malformed", "envelope fields are missing or of the wrong type", header);
  }
  return e as SealedEnvelope;
}

export interface Opened<T = unknown> {
  header: EnvelopeHeader;
  payload: T;
}

/**
 * Opens a sealed message. `expectedCp`, when given (the bus key), must match the envelope.
 * The caller records `header.seq` as accepted once it has applied the message.
 */
export async function open<T = unknown>(wire: string | Uint8Array, keys: KeyLookup, sequences: SequenceStore, expectedCp?: string): Promise<Opened<T>> {
  return openEnvelope(readHeader(wire), keys, sequences, expectedCp);
}

/** `open` for an envelope already read with `readHeader` (a batch reads each header once). */
export async function openEnvelope<T = unknown>(e: SealedEnvelope, keys: KeyLookup, sequences: SequenceStore, expectedCp?: string): Promise<Opened<T>> {
  const header: EnvelopeHeader = { v: 1, cp: e.cp, kid: e.kid, sender: e.sender, seq: e.seq, ts: e.ts };
  if (expectedCp !== undefined && expectedCp !== e.cp)
    throw new EnvelopeError("cp_mismatch", `message keyed for ${expectedCp} claims to be from ${e.cp}`, header);
  const info = await keys(e.kid);
  if (!info) throw new EnvelopeError("unknown_key", `unknown key id ${e.kid}`, header);
  if (info.cpId !== e.cp) throw new EnvelopeError("cp_mismatch", `key ${e.kid} belongs to ${info.cpId}, not ${e.cp}`, header);
  if (info.revoked && !(info.sealedUntil !== undefined && e.ts <= info.sealedUntil))
    throw new EnvelopeError("revoked_key", `key ${e.kid} has been revoked`, header);
  let plaintext: string;
  try {
    const raw = Buffer.from(e.ct, "base64url");
    if (raw.length < 16) throw new Error("short");
    const decipher = createDecipheriv("aes-256-gcm", info.key, Buffer.from(e.nonce, "base64url"));
    decipher.setAAD(associatedData(header));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    plaintext = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new EnvelopeError("tampered", "authentication failed: the message was altered or sealed with another key", header);
  }
  const last = await sequences.last(e.kid, e.sender);
  if (last !== undefined && e.seq <= last) throw new EnvelopeError("replayed", `sequence ${e.seq} from ${e.sender} is not after ${last}`, header);
  let payload: T;
  try {
    payload = JSON.parse(plaintext) as T;
  } catch {
    throw new EnvelopeError("malformed", "payload is not JSON", header);
  }
  return { header, payload };
}

/** An in-memory sequence store (the CP side; Central persists its own in the database). */
export class MemorySequences implements SequenceStore {
  private map = new Map<string, number>();
  last(keyId: string, sender: string): number | undefined {
    return this.map.get(`${keyId}|${sender}`);
  }
  accept(keyId: string, sender: string, seq: number): void {
    const k = `${keyId}|${sender}`;
    if ((this.map.get(k) ?? 0) < seq) this.map.set(k, seq);
  }
}
