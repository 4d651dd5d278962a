/**
 * The envelope every message between Central and a key holder (a CP's engine or monitor, a
 * driver's app) travels in: AES-256-GCM under the subject's channel key, a fresh 96-bit nonce
 * per message, and the subject, key id, sender and sequence number authenticated as associated
 * data. Only those routing fields are readable on the wire.
 *
 * The subject is whose channel key it is, typed: `cp:CP_001` or `driver:D1`. Opening checks, in
 * order: the format, the key (known, not revoked, belonging to the claimed subject), the
 * authentication tag, and the sequence (greater than the last accepted from that sender under
 * that key). Each failure has its own code so it can be audited with its reason.
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { KnownError } from "../lib/errors.ts";

export const SUBJECT_TYPES = ["cp", "driver"] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export interface Subject {
  type: SubjectType;
  id: string;
}

const SUBJECT = /^(cp|driver):([A-Za-z0-9_.-]{1,64})$/;
const KEY_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** A sender names a role and an instance in printable ASCII: `engine:CP_001`, `central:host-42`, `driver:D1>CP_001`. */
const SENDER = /^[\x21-\x7e]{1,200}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Largest ciphertext accepted, in base64url characters (a payload is a few hundred bytes). */
const MAX_CIPHERTEXT = 64 * 1024;

/** `cp:CP_001`, as the header carries it. */
export function subjectName(subject: Subject): string {
  return `${subject.type}:${subject.id}`;
}

export function parseSubject(name: string): Subject | undefined {
  const m = SUBJECT.exec(name);
  return m ? { type: m[1] as SubjectType, id: m[2]! } : undefined;
}

export interface EnvelopeHeader {
  /** format version */
  v: 2;
  /** whose key: `cp:CP_001`, `driver:D1` */
  sub: string;
  kid: string;
  /** who sent it: `engine:CP_001`, `monitor:CP_001`, `driver:D1>CP_001`, `central:<instance>` */
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

export type EnvelopeFailure = "malformed" | "unknown_key" | "revoked_key" | "subject_mismatch" | "tampered" | "replayed";

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
  /** whose key it is, as `subjectName` writes it */
  subject: string;
  revoked: boolean;
  /**
   * A key replaced by a new authentication (not revoked for cause) still opens what was sealed
   * with it up to this time (ms since the epoch): messages already on their way stay good.
   */
  sealedUntil?: number;
}

/** Finds a channel key by id for the subject a message claims (a cache in front of the database, usually). */
export type KeyLookup = (keyId: string, subject: Subject) => KeyInfo | undefined | Promise<KeyInfo | undefined>;

/** Replay guard: returns the last accepted sequence for (key, sender), or undefined. */
export interface SequenceStore {
  last(keyId: string, sender: string): number | undefined | Promise<number | undefined>;
}

/**
 * Scratch space for what a seal or an open needs only until it returns (sealing and opening are
 * synchronous): the associated data and the decoded ciphertext are written there rather than into
 * a new buffer per message. The cipher copies what it keeps.
 */
const scratchAad = Buffer.allocUnsafe(1024);
const scratchCt = Buffer.allocUnsafe(Math.ceil((MAX_CIPHERTEXT * 3) / 4) + 4);
const scratchNonce = Buffer.allocUnsafe(16);

/** The associated data of a header, in `scratchAad` (or a buffer of its own when longer). */
function associatedData(h: EnvelopeHeader): Buffer {
  const text = `evnet/envelope/v${h.v}|${h.sub}|${h.kid}|${h.sender}|${h.seq}|${h.ts}`;
  // utf8 is at most 3 bytes a character: what may not fit is written into a buffer of its own
  if (text.length * 3 > scratchAad.length) return Buffer.from(text);
  return scratchAad.subarray(0, scratchAad.write(text, 0, "utf8"));
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

/** Random nonces drawn in bulk (one call to the system's generator per NONCES_AT_ONCE messages), each used once. */
const NONCES_AT_ONCE = 1024;
let nonces = Buffer.alloc(0);
let noncesUsed = 0;
function freshNonce(): Buffer {
  if (noncesUsed + 12 > nonces.length) {
    nonces = randomBytes(12 * NONCES_AT_ONCE);
    noncesUsed = 0;
  }
  noncesUsed += 12;
  return nonces.subarray(noncesUsed - 12, noncesUsed);
}

export function seal(header: Omit<EnvelopeHeader, "v" | "ts"> & { ts?: number }, key: Uint8Array, payload: unknown): string {
  const h: EnvelopeHeader = { v: 2, sub: header.sub, kid: header.kid, sender: header.sender, seq: header.seq, ts: header.ts ?? Date.now() };
  const nonce = freshNonce();
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(associatedData(h));
  const body = cipher.update(JSON.stringify(payload), "utf8");
  cipher.final(); // GCM: nothing more to output
  const tag = cipher.getAuthTag();
  // body and tag side by side in scratch space (a payload is far smaller), then as base64url
  const ct =
    body.length + 16 <= scratchCt.length
      ? scratchCt.toString("base64url", 0, body.copy(scratchCt, 0) + tag.copy(scratchCt, body.length))
      : Buffer.concat([body, tag]).toString("base64url");
  // The fields of a SealedEnvelope in their order, written out (as JSON.stringify would).
  return `{"v":2,"sub":${JSON.stringify(h.sub)},"kid":${JSON.stringify(h.kid)},"sender":${JSON.stringify(h.sender)},"seq":${h.seq},"ts":${h.ts},"nonce":"${nonce.toString("base64url")}","ct":"${ct}"}`;
}

/** Reads the header without opening: enough to route and to audit. Throws `malformed`. */
export function readHeader(wire: string | Uint8Array): SealedEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof wire === "string" ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength).toString("utf8"));
  } catch {
    throw new EnvelopeError("malformed", "not an envelope (invalid JSON)");
  }
  const e = parsed as Partial<SealedEnvelope> | null;
  const ok =
    e !== null &&
    typeof e === "object" &&
    e.v === 2 &&
    typeof e.sub === "string" &&
    SUBJECT.test(e.sub) &&
    typeof e.kid === "string" &&
    KEY_ID.test(e.kid) &&
    typeof e.sender === "string" &&
    SENDER.test(e.sender) &&
    Number.isSafeInteger(e.seq) &&
    (e.seq as number) > 0 &&
    Number.isSafeInteger(e.ts) &&
    typeof e.nonce === "string" &&
    e.nonce.length === 16 &&
    BASE64URL.test(e.nonce) &&
    typeof e.ct === "string" &&
    e.ct.length <= MAX_CIPHERTEXT &&
    BASE64URL.test(e.ct);
  if (!ok) {
    // Only well-formed fields are repeated (in an audit entry): anything else may hold anything.
    const header =
      e && typeof e === "object"
        ? {
            sub: typeof e.sub === "string" && SUBJECT.test(e.sub) ? e.sub : undefined,
            kid: typeof e.kid === "string" && KEY_ID.test(e.kid) ? e.kid : undefined,
          }
        : undefined;
    throw new EnvelopeError("malformed", "envelope fields are missing or of the wrong form", header);
  }
  return e as SealedEnvelope;
}

export interface Opened<T = unknown> {
  header: EnvelopeHeader;
  subject: Subject;
  payload: T;
}

/**
 * Opens a sealed message. `expectedSubject`, when given (what the bus key implies), must be the
 * envelope's. The caller records `header.seq` as accepted once it has applied the message.
 */
export async function open<T = unknown>(wire: string | Uint8Array, keys: KeyLookup, sequences: SequenceStore, expectedSubject?: string): Promise<Opened<T>> {
  return openEnvelope(readHeader(wire), keys, sequences, expectedSubject);
}

/** `open` for an envelope already read with `readHeader` (a batch reads each header once). */
export async function openEnvelope<T = unknown>(e: SealedEnvelope, keys: KeyLookup, sequences: SequenceStore, expectedSubject?: string): Promise<Opened<T>> {
  if (expectedSubject !== undefined && expectedSubject !== e.sub) return openEnvelopeWith<T>(e, undefined, undefined, expectedSubject);
  const info = await keys(e.kid, parseSubject(e.sub)!);
  return openEnvelopeWith<T>(e, info, info ? await sequences.last(e.kid, e.sender) : undefined, expectedSubject);
}

/**
 * `openEnvelope` with its key and the sender's last accepted sequence already at hand (looked
 * up for a whole batch): the same checks in the same order, without waiting on anything.
 */
export function openEnvelopeWith<T = unknown>(e: SealedEnvelope, info: KeyInfo | undefined, last: number | undefined, expectedSubject?: string): Opened<T> {
  const header: EnvelopeHeader = { v: 2, sub: e.sub, kid: e.kid, sender: e.sender, seq: e.seq, ts: e.ts };
  const subject = parseSubject(e.sub)!;
  if (expectedSubject !== undefined && expectedSubject !== e.sub)
    throw new EnvelopeError("subject_mismatch", `message for ${expectedSubject} claims to be ${e.sub}'s`, header);
  if (!info) throw new EnvelopeError("unknown_key", `unknown key id ${e.kid}`, header);
  if (info.subject !== e.sub) throw new EnvelopeError("subject_mismatch", `key ${e.kid} is ${info.subject}'s, not ${e.sub}'s`, header);
  if (info.revoked && !(info.sealedUntil !== undefined && e.ts <= info.sealedUntil))
    throw new EnvelopeError("revoked_key", `key ${e.kid} has been revoked`, header);
  let plaintext: string;
  try {
    // readHeader checked both are base64url (and the ciphertext's length): decoded into scratch space
    const raw = scratchCt.subarray(0, scratchCt.write(e.ct, 0, "base64url"));
    if (raw.length < 16) throw new Error("short");
    const decipher = createDecipheriv("aes-256-gcm", info.key, scratchNonce.subarray(0, scratchNonce.write(e.nonce, 0, "base64url")));
    decipher.setAAD(associatedData(header));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const body = decipher.update(raw.subarray(0, raw.length - 16));
    decipher.final(); // checks the tag; GCM has nothing more to output
    plaintext = body.toString("utf8");
  } catch {
    throw new EnvelopeError("tampered", "authentication failed: the message was altered or sealed with another key", header);
  }
  if (last !== undefined && e.seq <= last) throw new EnvelopeError("replayed", `sequence ${e.seq} from ${e.sender} is not after ${last}`, header);
  let payload: T;
  try {
    payload = JSON.parse(plaintext) as T;
  } catch {
    throw new EnvelopeError("malformed", "payload is not JSON", header);
  }
  return { header, subject, payload };
}

/** No sequence is checked: the caller guards against replays its own way (a client's seen messages). */
/** Accepted sequences kept in memory (a client, a test): one's own store, no database. */
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

export const UNCHECKED_SEQUENCES: SequenceStore = { last: () => undefined };
