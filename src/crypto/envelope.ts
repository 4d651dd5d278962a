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
 *
 * On the wire (format 3, what `seal` writes), in bytes:
 *
 *     3 | n, subject | n, key id | n, sender | seq (float64 BE) | ts (float64 BE) | nonce (12) | ciphertext, tag (16)
 *
 * each text as a one-byte length and its ASCII characters, the header (everything before the
 * nonce) being the associated data as it stands. Format 2, the JSON object evnet wrote before
 * (`{"v":2,"sub":…,"nonce":…,"ct":…}`, base64url nonce and ciphertext), is still opened: what is
 * already on the bus when a network is upgraded, and what a key holder not yet upgraded sends.
 * The binary form costs a third of the bytes and about half the work to open (no JSON, no
 * base64, the associated data not rebuilt): docs/benchmarks.md, twelfth round.
 */

import { createCipheriv, randomBytes } from "node:crypto";
import { KnownError } from "../lib/errors.ts";
import { type GcmSealed, gcmOpen, NONCE_BYTES, TAG_BYTES } from "./gcm.ts";

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
/** The same bound in bytes, for the binary format. */
const MAX_CIPHERTEXT_BYTES = (MAX_CIPHERTEXT * 3) / 4;
const BINARY = 3;

/** `cp:CP_001`, as the header carries it. */
export function subjectName(subject: Subject): string {
  return `${subject.type}:${subject.id}`;
}

export function parseSubject(name: string): Subject | undefined {
  const m = SUBJECT.exec(name);
  return m ? { type: m[1] as SubjectType, id: m[2]! } : undefined;
}

/** A subject `readHeader` has checked against its rule (`cp:…` or `driver:…`), split without checking again (and not to be changed: a header read again shares it). */
function checkedSubject(sub: string): Readonly<Subject> {
  const colon = sub.indexOf(":");
  return Object.freeze({ type: sub.slice(0, colon) as SubjectType, id: sub.slice(colon + 1) });
}

export interface EnvelopeHeader {
  /** format version: 3 binary, 2 JSON (still read) */
  v: 2 | 3;
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

/** A format-2 (JSON) envelope as read from the wire. */
interface JsonSealed extends EnvelopeHeader {
  v: 2;
  /** base64url */
  nonce: string;
  /** base64url: the ciphertext, its tag last */
  ct: string;
}

/** A binary envelope as read from the wire, with its bytes as they came. */
interface BinarySealed extends EnvelopeHeader {
  v: 3;
  /** the whole envelope: its header (the associated data), the nonce, the ciphertext and its tag */
  wire: Uint8Array;
  /** where the header ends */
  headerBytes: number;
}

/**
 * A header as read from the wire, with what opening needs in the form its format carries it, and
 * the name of its (key, sender) pair, whose sequence guards against replays.
 */
export type SealedEnvelope = (JsonSealed | BinarySealed) & { pair: string; subject: Readonly<Subject> };

/** How a (key, sender) pair, the unit a replay is told by, is named as a map key. */
export function sequencePairKey(keyId: string, sender: string): string {
  return `${keyId}\u0000${sender}`;
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

/** The associated data of a format-2 header. */
function associatedData(h: EnvelopeHeader): Buffer {
  return Buffer.from(`evnet/envelope/v${h.v}|${h.sub}|${h.kid}|${h.sender}|${h.seq}|${h.ts}`);
}

/**
 * What opening an envelope under `key` takes. Binary: the bytes as they came, whose header is the
 * associated data and is followed by the nonce and the ciphertext. JSON: `readHeader` checked the
 * nonce and the ciphertext are base64url (and the ciphertext's length); decoded and put together here.
 */
export function gcmSealedOf(e: SealedEnvelope, key: Uint8Array): GcmSealed {
  if (e.v === BINARY) return { key, bytes: e.wire, aadLength: e.headerBytes };
  const aad = associatedData(e);
  const nonce = Buffer.from(e.nonce, "base64url");
  if (nonce.length !== NONCE_BYTES) return { key, bytes: new Uint8Array(0), aadLength: 0 }; // does not open
  return { key, bytes: Buffer.concat([aad, nonce, Buffer.from(e.ct, "base64url")]), aadLength: aad.length };
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
  if (noncesUsed + NONCE_BYTES > nonces.length) {
    nonces = randomBytes(NONCE_BYTES * NONCES_AT_ONCE);
    noncesUsed = 0;
  }
  noncesUsed += NONCE_BYTES;
  return nonces.subarray(noncesUsed - NONCE_BYTES, noncesUsed);
}

/**
 * Where `seal` writes a header before copying it to the envelope: the version byte, three texts of
 * at most 255 characters with their lengths, seq and ts. The associated data is a view of it: a
 * view of a small buffer of its own (what Buffer.allocUnsafe gives an envelope) has the engine
 * first move that buffer's bytes to an allocation of their own, for every message
 * (docs/benchmarks.md, twenty-sixth round). Sealing is synchronous, so one space serves every call.
 */
const headerSpace = Buffer.allocUnsafeSlow(4 + 3 * 255 + 16);
headerSpace[0] = BINARY;

/**
 * Seals `payload` for the holder of `key`, in the binary format. The header's texts are ASCII
 * (subjects, key ids and senders are, by their rules): one that is not, or is longer than 255, is
 * a programming error and throws.
 */
export function seal(header: Omit<EnvelopeHeader, "v" | "ts"> & { ts?: number }, key: Uint8Array, payload: unknown): Buffer {
  const ts = header.ts ?? Date.now();
  const body = JSON.stringify(payload);
  // The header, the associated data, is written in headerSpace and copied to the envelope.
  let at = writeText(headerSpace, 1, header.sub);
  at = writeText(headerSpace, at, header.kid);
  at = writeText(headerSpace, at, header.sender);
  at = headerSpace.writeDoubleBE(header.seq, at);
  at = headerSpace.writeDoubleBE(ts, at);
  const aad = headerSpace.subarray(0, at);
  const out = Buffer.allocUnsafe(at + NONCE_BYTES + Buffer.byteLength(body, "utf8") + TAG_BYTES);
  aad.copy(out, 0);
  const nonce = freshNonce();
  at += nonce.copy(out, at);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  at += cipher.update(body, "utf8").copy(out, at);
  cipher.final(); // GCM: nothing more to output
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** Writes a one-byte length and `text`'s ASCII characters at `at`; returns where it ended. */
function writeText(out: Buffer, at: number, text: string): number {
  if (text.length > 255 || !ASCII.test(text))
    throw new Error(`an envelope's header text must be ASCII and at most 255 characters: ${JSON.stringify(text.slice(0, 40))}`);
  out[at] = text.length;
  return at + 1 + out.write(text, at + 1, "latin1");
}
const ASCII = /^[\x20-\x7e]*$/;

/** Reads the header without opening: enough to route and to audit. Throws `malformed`. */
export function readHeader(wire: string | Uint8Array): SealedEnvelope {
  return typeof wire !== "string" && wire[0] === BINARY ? readBinaryHeader(wire) : readJsonHeader(wire);
}

/** A binary header's three texts, checked against their rules, the name of their pair and the subject typed. */
interface HeaderTexts {
  sub: string;
  kid: string;
  sender: string;
  pair: string;
  subject: Readonly<Subject>;
}

/**
 * Header texts already read and checked, by their bytes (as latin1, one character a byte): a
 * sender's headers repeat from one message to the next, so each is read and checked once and
 * its strings are the same ones every time (cheaper as map keys after). Emptied when it holds
 * CHECKED_TEXTS_MAX headers or CHECKED_TEXTS_MAX_CHARS characters of them (a network's
 * senders fit many times over; headers made up to fill it cost a few megabytes at most).
 */
const checkedTexts = new Map<string, HeaderTexts>();
let checkedTextsChars = 0;
const CHECKED_TEXTS_MAX = 100_000;
const CHECKED_TEXTS_MAX_CHARS = 4_000_000;

/** The binary format's header; its texts must follow the same rules as in JSON. */
function readBinaryHeader(wire: Uint8Array): SealedEnvelope {
  const bytes = Buffer.isBuffer(wire) ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  let at = 1;
  for (let i = 0; i < 3 && at < bytes.length; i++) at += 1 + bytes[at]!;
  const headerEnd = at + 16;
  const texts = headerEnd <= bytes.length ? checkedTextsOf(bytes, at) : undefined;
  const seq = texts ? bytes.readDoubleBE(at) : Number.NaN;
  const ts = texts ? bytes.readDoubleBE(at + 8) : Number.NaN;
  const ctBytes = bytes.length - headerEnd - NONCE_BYTES;
  const ok = texts !== undefined && Number.isSafeInteger(seq) && seq > 0 && Number.isSafeInteger(ts) && ctBytes >= TAG_BYTES && ctBytes <= MAX_CIPHERTEXT_BYTES;
  if (!ok) throw new EnvelopeError("malformed", "envelope fields are missing or of the wrong form", wellFormedTexts(bytes));
  const { sub, kid, sender, pair, subject } = texts;
  return { v: BINARY, sub, kid, sender, seq, ts, wire, headerBytes: headerEnd, pair, subject };
}

/** The texts before `end` (which the caller found within the bytes), read and checked, or undefined if one breaks its rule. */
function checkedTextsOf(bytes: Buffer, end: number): HeaderTexts | undefined {
  const span = bytes.toString("latin1", 1, end);
  const cached = checkedTexts.get(span);
  if (cached) return cached;
  const [sub, kid, sender] = textsOf(bytes);
  if (sub === undefined || !SUBJECT.test(sub) || kid === undefined || !KEY_ID.test(kid) || sender === undefined || !SENDER.test(sender)) return undefined;
  if (checkedTexts.size >= CHECKED_TEXTS_MAX || checkedTextsChars >= CHECKED_TEXTS_MAX_CHARS) {
    checkedTexts.clear();
    checkedTextsChars = 0;
  }
  const texts = { sub, kid, sender, pair: sequencePairKey(kid, sender), subject: checkedSubject(sub) };
  checkedTexts.set(span, texts);
  checkedTextsChars += span.length;
  return texts;
}

/** The header's three texts as far as they can be read (undefined from the first that runs past the end). */
function textsOf(bytes: Buffer): (string | undefined)[] {
  const texts: (string | undefined)[] = [];
  let at = 1;
  for (let i = 0; i < 3; i++) {
    const length = bytes[at];
    if (length === undefined || at + 1 + length > bytes.length) break;
    texts.push(bytes.toString("latin1", at + 1, at + 1 + length));
    at += 1 + length;
  }
  return texts;
}

/** What a malformed header's audit entry may repeat: its subject and key id, where each follows its rule. */
function wellFormedTexts(bytes: Buffer): Partial<EnvelopeHeader> {
  const [sub, kid] = textsOf(bytes);
  return { sub: sub !== undefined && SUBJECT.test(sub) ? sub : undefined, kid: kid !== undefined && KEY_ID.test(kid) ? kid : undefined };
}

/** The JSON format's header (format 2). */
function readJsonHeader(wire: string | Uint8Array): SealedEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof wire === "string" ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength).toString("utf8"));
  } catch {
    throw new EnvelopeError("malformed", "not an envelope (invalid JSON)");
  }
  const e = parsed as Partial<JsonSealed> | null;
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
  const { kid, sender, sub } = e as JsonSealed;
  return { ...(e as JsonSealed), pair: sequencePairKey(kid, sender), subject: checkedSubject(sub) };
}

export interface Opened<T = unknown> {
  header: EnvelopeHeader;
  subject: Subject;
  payload: T;
  /** the header's (key, sender) pair, as `sequencePairKey` names it */
  pair: string;
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
  const info = await keys(e.kid, e.subject);
  return openEnvelopeWith<T>(e, info, info ? await sequences.last(e.kid, e.sender) : undefined, expectedSubject);
}

/**
 * `openEnvelope` with its key and the sender's last accepted sequence already at hand (looked
 * up for a whole batch): the same checks in the same order, without waiting on anything.
 * `plaintext`: what opening `gcmSealedOf(e, key)` gave elsewhere (null: its tag did not match);
 * when not given, it is opened here.
 */
export function openEnvelopeWith<T = unknown>(
  e: SealedEnvelope,
  info: KeyInfo | undefined,
  last: number | undefined,
  expectedSubject?: string,
  plaintext?: string | null,
): Opened<T> {
  const header: EnvelopeHeader = { v: e.v, sub: e.sub, kid: e.kid, sender: e.sender, seq: e.seq, ts: e.ts };
  const { subject } = e;
  if (expectedSubject !== undefined && expectedSubject !== e.sub)
    throw new EnvelopeError("subject_mismatch", `message for ${expectedSubject} claims to be ${e.sub}'s`, header);
  if (!info) throw new EnvelopeError("unknown_key", `unknown key id ${e.kid}`, header);
  if (info.subject !== e.sub) throw new EnvelopeError("subject_mismatch", `key ${e.kid} is ${info.subject}'s, not ${e.sub}'s`, header);
  if (info.revoked && !(info.sealedUntil !== undefined && e.ts <= info.sealedUntil))
    throw new EnvelopeError("revoked_key", `key ${e.kid} has been revoked`, header);
  const text = plaintext === undefined ? gcmOpen(gcmSealedOf(e, info.key)) : plaintext;
  if (text === undefined || text === null)
    throw new EnvelopeError("tampered", "authentication failed: the message was altered or sealed with another key", header);
  if (last !== undefined && e.seq <= last) throw new EnvelopeError("replayed", `sequence ${e.seq} from ${e.sender} is not after ${last}`, header);
  let payload: T;
  try {
    payload = JSON.parse(text) as T;
  } catch {
    throw new EnvelopeError("malformed", "payload is not JSON", header);
  }
  return { header, subject, payload, pair: e.pair };
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
