/**
 * Central's end of the encrypted channels. Every message a key holder sends Central (a CP's
 * events, a driver's requests) is opened here, and every message Central sends one (commands,
 * answers, progress, tickets) sealed here, with the holder's channel key from `cp_keys` or
 * `driver_keys` (unwrapped under the master key and cached).
 *
 * A message that fails to open (malformed, unknown or revoked key, another holder's id, sent
 * as someone it is not, tampered, replayed) is audited as a `security` event with its reason
 * and reported as `ok: false`; it never throws, so a bad message cannot stall the consumer.
 * Only a transient failure (the database is down) throws, so the bus delivers it again.
 */

import type { Auditor } from "../../audit/audit.ts";
import type { Bus, BusMessage, OutgoingMessage } from "../../bus/bus.ts";
import type { ControlMessage } from "../../bus/control-messages.ts";
import { keyRevokedNotice } from "../../bus/security-notice.ts";
import type { Topics } from "../../bus/topics.ts";
import {
  EnvelopeError,
  type EnvelopeFailure,
  type EnvelopeHeader,
  gcmSealedOf,
  type KeyInfo,
  type Opened,
  open,
  openEnvelopeWith,
  parseSubject,
  readHeader,
  type SealedEnvelope,
  SequenceCounter,
  type SequenceStore,
  SUBJECT_TYPES,
  type Subject,
  type SubjectType,
  seal,
  subjectName,
} from "../../crypto/envelope.ts";
import type { GcmSealed } from "../../crypto/gcm.ts";
import { KeyError, unwrapKey } from "../../crypto/keys.ts";
import { type GcmOpener, inPlaceOpener } from "../../crypto/opening-thread.ts";
import type { Db } from "../../db/client.ts";
import { findActiveKey, findKey, newestOf, SUPERSEDED_BY_AUTHENTICATION } from "../../db/repos/cp-keys.ts";
import { acceptSequence, acceptSequences, lastAcceptedSequence, lastAcceptedSequences } from "../../db/repos/message-sequences.ts";
import { printable } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { KEY_REVOKED_REASON } from "../../identity/revoke.ts";
import { KnownError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { TurnTaker } from "../../lib/turns.ts";
import { KEY_STORES, type StoredKey } from "./key-stores.ts";

export interface CentralChannelOptions {
  db: Db;
  auditor: Auditor;
  log: Logger;
  /** Where revocation notices go (topics.cpCommands). */
  bus: Bus;
  topics: Topics;
  masterKey: Uint8Array;
  /** Names this Central instance as a sender: `central:<instance>`. */
  instance: string;
  /**
   * How long a key revoked without a control message (the Registry's DELETE) may keep working:
   * the keys revoked since are read this often (one short query per kind of holder), and
   * control messages invalidate at once.
   */
  keyRecheckMs?: number;
  /** How long a cached key is used before it is read again, should a revocation escape the above (a writer's clock far behind); default a minute. */
  keyReadAgainMs?: number;
  /** At most one revocation notice per key in this window, however many refused messages arrive. */
  noticeIntervalMs?: number;
  /** What opens a batch's envelopes (Central: its opening thread); default: in place. */
  opener?: GcmOpener;
  /** A cached key, or a holder's cached active key, not used for this long is dropped (read again at its next use); default half an hour. */
  keyForgetAfterMs?: number;
}

/** A message opened (`pair`: its key and sender, as `sequencePairKey` names them), or why it was refused. */
export type Inbound<T> =
  | { ok: true; subject: Subject; header: EnvelopeHeader; payload: T; pair: string }
  | { ok: false; code: EnvelopeFailure; reason: string };

/** What Central should do with the CP's state after a control message (it applies its own rules). */
export interface ControlEffect {
  transition?: { to: "ACTIVE" | "STOPPED"; reason: string };
}

export class NoActiveKeyError extends KnownError {
  override name = "NoActiveKeyError";
  constructor(readonly subject: Subject) {
    super(`${subject.type === "cp" ? "charging point" : "driver"} ${subject.id} has no active key (not authenticated, or its key was revoked)`);
  }
}

export interface CentralChannel {
  /** Opens one message for Central (topics.cpEvents, topics.driverRequests). Does not record its sequence: see `accept`. */
  openOne<T = unknown>(message: BusMessage): Promise<Inbound<T>>;
  /**
   * Opens a batch of messages for Central with one read of the replay table. Within the batch
   * too, a sender's sequence must rise: a copy later in the same batch is refused as replayed.
   * `known`, when given, holds last accepted sequences (by `sequencePairKey`) the caller knows
   * to be current: only pairs missing from it are read, and it is left holding every pair of
   * the batch with its last sequence once the batch is applied. Messages in `replays` (an
   * operator's replay of a dead letter) are not checked for replay: their sequence was used up
   * when they were set aside. `quiet`: what is refused is not audited (messages read again that
   * were audited when first read).
   */
  openBatch<T = unknown>(messages: BusMessage[], known?: Map<string, number>, replays?: Set<BusMessage>, quiet?: boolean): Promise<Inbound<T>[]>;
  /**
   * Records the message's sequence as accepted; call it in the transaction that applies the
   * message. False: a redelivery or a concurrent copy was accepted first, so apply nothing.
   */
  accept(header: EnvelopeHeader, db?: Db): Promise<boolean>;
  /** `accept` for a batch (two statements); one verdict per header, in order. */
  acceptAll(headers: EnvelopeHeader[], db?: Db): Promise<boolean[]>;
  /**
   * Seals a Central -> CP message under the CP's active key, keyed by the CP (topics.cpCommands).
   * `handle`: the transaction of the unit of work sealing it, through which the keys are then read
   * (see `revocationsFollowed` below: a unit of work never waits for the pool).
   */
  sealForCp(cpId: string, payload: unknown, handle?: Db): Promise<OutgoingMessage>;
  /**
   * Seals a Central -> driver message, keyed by the driver (topics.driverUpdates): under `keyId`
   * when given (the key its request came under), else under the driver's active key (`handle`:
   * as for sealForCp).
   */
  sealForDriver(driverId: string, payload: unknown, keyId?: string, handle?: Db): Promise<OutgoingMessage>;
  /** Seals each under its driver's active key (one lookup for all); undefined for a driver without one. */
  sealForDrivers(updates: { driverId: string; payload: unknown }[]): Promise<(OutgoingMessage | undefined)[]>;
  /** Applies a control message to the key cache and says how the CP's state should change (`handle`: as for sealForCp). */
  onControl(message: ControlMessage, handle?: Db): Promise<ControlEffect>;
  /** Forgets what is cached about a key holder's keys. */
  invalidate(subject: Subject): void;
  /** How many keys, and holders' active keys, are cached now. */
  cached(): { keys: number; activeKeys: number };
}

interface CachedKey extends KeyInfo {
  checkedAt: number;
  /** When it was last used to open or seal (ms), for FORGET_UNUSED_AFTER_MS. */
  usedAt: number;
  /** When a new authentication replaced it (ms), for `sealedUntil`. */
  supersededAt?: number;
}

/**
 * What a CP's engine sealed with its key in the moments before its monitor authenticated again
 * (it gets the new key from the monitor a little later), or what waited in Kafka while Central
 * was behind, is still its own: a key replaced by a new authentication opens what was sealed
 * with it up to this long after, for this long after (then it is refused like any revoked key).
 */
const SUPERSEDED_SEALED_WITHIN_MS = 60_000;
const SUPERSEDED_OPENS_FOR_MS = 15 * 60_000;

/**
 * Revocations are followed, not polled key by key: every `keyRecheckMs` Central reads the keys
 * revoked since it last looked (less this margin: a revoking transaction that committed late,
 * or a writer's clock a little behind Central's). A cached key is also read again after
 * KEY_READ_AGAIN_MS, should a revocation escape both (a clock far behind): for openings and for
 * sealing to holders' active keys, in the background, the cached key staying in use until that
 * read is back (prefetch, sealForActives).
 */
const REVOKED_SINCE_MARGIN_MS = 60_000;
const KEY_READ_AGAIN_MS = 60_000;

/** Who may send Central a message under a holder's key: a CP's engine or monitor; a driver's app, to the CP it names. */
function sentByHolder(header: EnvelopeHeader, subject: Subject, busKey: string): boolean {
  const { sender } = header;
  if (subject.type === "cp") return isPrefixed(sender, "engine:", subject.id) || isPrefixed(sender, "monitor:", subject.id);
  return sender === `driver:${subject.id}>${busKey}`;
}

/** `text === prefix + rest`, without building the string (every CP's message is checked so). */
function isPrefixed(text: string, prefix: string, rest: string): boolean {
  return text.length === prefix.length + rest.length && text.startsWith(prefix) && text.endsWith(rest);
}

/**
 * Opening is CPU work: after this long (ms) it lets in the answers other batches are waiting for,
 * looking at the clock every YIELD_CHECK_EVERY envelopes. (A turn of the event loop every 128
 * envelopes, as before, held 1.6–3.3% of a drain's samples of Central's thread: docs/benchmarks.md,
 * thirty-first round.)
 */
const YIELD_AFTER_MS = 4;
const YIELD_CHECK_EVERY = 128;

/**
 * A cached key, or a holder's cached active key, not used for this long is dropped; its next use
 * reads it again (with the others of its batch). The caches then hold the holders that speak,
 * not every holder ever heard from nor every key a reconnecting charger was ever given (a
 * revoked key is otherwise kept, as revoked, for good). Looked for at most once a SWEEP_EVERY_MS.
 */
const FORGET_UNUSED_AFTER_MS = 30 * 60_000;
const SWEEP_EVERY_MS = 60_000;

export function createCentralChannel(options: CentralChannelOptions): CentralChannel {
  const { db, auditor, log, bus, topics, masterKey } = options;
  const opener = options.opener ?? inPlaceOpener;
  const recheckMs = options.keyRecheckMs ?? 3000;
  // 0 (tests): every use reads the key again.
  const readAgainMs = recheckMs === 0 ? 0 : Math.max(recheckMs, options.keyReadAgainMs ?? KEY_READ_AGAIN_MS);
  const noticeIntervalMs = options.noticeIntervalMs ?? 10_000;
  const sender = `central:${options.instance}`;
  const counter = new SequenceCounter();
  const keys = new Map<string, CachedKey>();
  /** A holder's active key id, by subject name. */
  const activeKeyOf = new Map<string, { keyId: string; checkedAt: number; usedAt: number }>();
  const lastNoticeAt = new Map<string, number>();
  const forgetAfterMs = options.keyForgetAfterMs ?? FORGET_UNUSED_AFTER_MS;
  let sweptAt = Date.now();

  /** Drops the keys and active keys not used for `forgetAfterMs`, and notices that no longer hold back another. */
  function forgetUnused(now: number): void {
    if (now - sweptAt < Math.min(forgetAfterMs, SWEEP_EVERY_MS)) return;
    sweptAt = now;
    for (const [keyId, cached] of keys) if (now - cached.usedAt > forgetAfterMs) keys.delete(keyId);
    for (const [name, active] of activeKeyOf) if (now - active.usedAt > forgetAfterMs) activeKeyOf.delete(name);
    for (const [keyId, at] of lastNoticeAt) if (now - at >= noticeIntervalMs) lastNoticeAt.delete(keyId);
  }

  /** Whether a cached key can be used without reading it again (a revoked key stays revoked). */
  function fresh(cached: CachedKey | undefined): cached is CachedKey {
    if (cached?.supersededAt !== undefined && Date.now() - cached.supersededAt > SUPERSEDED_OPENS_FOR_MS) cached.sealedUntil = undefined;
    return cached !== undefined && (cached.revoked || Date.now() - cached.checkedAt < readAgainMs);
  }

  /** When the keys revoked were last read (Central's clock, when that read began). */
  let revocationsReadAt = Date.now();
  let readingRevocations: Promise<void> | undefined;

  /**
   * Every `recheckMs`, reads the keys revoked since the last time (one query per kind of
   * holder): a cached key among them is marked revoked, and a holder whose active key it was
   * has its active key read again when next sealed for. Every use of the cache passes here, so
   * it is also where what went unused is dropped (`forgetUnused`).
   */
  function followRevocations(): Promise<void> | undefined {
    forgetUnused(Date.now());
    if (readingRevocations) return readingRevocations;
    if (Date.now() - revocationsReadAt < recheckMs) return undefined;
    const startedAt = Date.now();
    const since = new Date(revocationsReadAt - REVOKED_SINCE_MARGIN_MS);
    readingRevocations = (async () => {
      for (const type of SUBJECT_TYPES)
        for (const row of await KEY_STORES[type].revokedSince(db, since)) {
          const active = activeKeyOf.get(subjectName(row.subject));
          if (active?.keyId === row.keyId) activeKeyOf.delete(subjectName(row.subject));
          if (keys.has(row.keyId) && !keys.get(row.keyId)!.revoked) remember(row);
        }
      revocationsReadAt = startedAt;
    })().finally(() => {
      readingRevocations = undefined;
    });
    return readingRevocations;
  }

  /**
   * Before using what is cached: the revocations read when they are due. A unit of work (`handle`
   * is its transaction) does not wait for that read, which takes a connection of the pool: a
   * transaction waiting for a second connection could wait for ever once every connection is held
   * by transactions doing the same (more partitions applied at once than connections). It goes on
   * with what is cached, as it would have a moment before; what opens a message always waits.
   */
  function revocationsFollowed(handle: Db): Promise<void> | undefined {
    const reading = followRevocations();
    if (!reading || handle === db) return reading;
    reading.catch(() => {}); // whoever waits for it hears of a failure; this one does not wait
    return undefined;
  }

  /** A key by id, of the kind of holder the message claims; a revoked key stays revoked, so only unrevoked ones are read again. */
  async function lookup(keyId: string, subject: Subject, handle: Db = db): Promise<KeyInfo | undefined> {
    await revocationsFollowed(handle);
    const cached = keys.get(keyId);
    if (fresh(cached)) {
      cached.usedAt = Date.now();
      return cached;
    }
    const [row] = await KEY_STORES[subject.type].find(handle, [keyId]);
    if (!row) {
      keys.delete(keyId);
      return undefined;
    }
    return remember(row);
  }

  /**
   * A batch's keys, as cached: those not cached are read before it opens (one query per kind of
   * holder). Those cached and due their re-check (`readAgainMs`, the net under the revocations
   * followed every `recheckMs`, which an opening always waits for) are read again aside while
   * the batch opens with what is cached. A network's keys are first read together, so they
   * all turn due within the same second, and every batch of that second used to wait for a
   * read of its keys: a stall once a minute at 10,000 chargers (docs/benchmarks.md).
   */
  async function prefetch(wanted: Map<string, SubjectType>): Promise<void> {
    await followRevocations();
    const unread = new Map<string, SubjectType>();
    const due = new Map<string, SubjectType>();
    const now = Date.now();
    for (const [id, type] of wanted) {
      const cached = keys.get(id);
      if (cached) cached.usedAt = now;
      if (fresh(cached)) continue;
      (cached && readAgainMs > 0 ? due : unread).set(id, type);
    }
    if (due.size) readAgainAside(due);
    if (unread.size) await readKeys(unread);
  }

  /** Reads keys (one query per kind of holder) into the cache; a key no longer stored is forgotten. */
  async function readKeys(wanted: Map<string, SubjectType>): Promise<void> {
    for (const type of new Set(wanted.values())) {
      const ids = [...wanted].filter(([, t]) => t === type).map(([id]) => id);
      const rows = await KEY_STORES[type].find(db, ids);
      for (const row of rows) remember(row);
      const found = new Set(rows.map((r) => r.keyId));
      for (const id of ids) if (!found.has(id)) keys.delete(id);
    }
  }

  /**
   * Reads in the background what turned due its re-check, one read at a time taking all that
   * came meanwhile; should a read fail, `failed` makes what it held due again at its next use.
   */
  function readerAside<T>(read: (due: Map<string, T>) => Promise<void>, failed: (due: Map<string, T>) => void): (due: Map<string, T>) => void {
    const waiting = new Map<string, T>();
    let reading = false;
    return (due) => {
      for (const [k, v] of due) waiting.set(k, v);
      if (reading) return;
      reading = true;
      void (async () => {
        try {
          while (waiting.size) {
            const taken = new Map(waiting);
            waiting.clear();
            try {
              await read(taken);
            } catch (err) {
              failed(taken);
              log.warn("could not read cached keys again; they are read again when next used", { count: taken.size, err });
              return;
            }
          }
        } finally {
          reading = false;
        }
      })();
    };
  }

  const keysAside = readerAside<SubjectType>(readKeys, (taken) => {
    for (const id of taken.keys()) {
      const cached = keys.get(id);
      if (cached && !cached.revoked) cached.checkedAt = 0;
    }
  });

  /** Keys due their re-check, read again aside (not due again while that read is under way). */
  function readAgainAside(due: Map<string, SubjectType>): void {
    const now = Date.now();
    for (const id of due.keys()) keys.get(id)!.checkedAt = now;
    keysAside(due);
  }

  /** Reads holders' active keys (with the keys themselves) into the cache; a holder without one is forgotten. */
  async function readActives(type: SubjectType, ids: string[], handle: Db): Promise<void> {
    const found = new Set<string>();
    for (const row of await KEY_STORES[type].active(handle, ids)) {
      if (!remember(row)) continue;
      const now = Date.now();
      activeKeyOf.set(subjectName(row.subject), { keyId: row.keyId, checkedAt: now, usedAt: now });
      found.add(row.subject.id);
    }
    for (const id of ids) if (!found.has(id)) activeKeyOf.delete(subjectName({ type, id }));
  }

  /** Holders whose active key is due its re-check, by subject name, read again aside. */
  const activesAside = readerAside<Subject>(
    async (taken) => {
      for (const type of SUBJECT_TYPES) {
        const ids = [...taken.values()].filter((h) => h.type === type).map((h) => h.id);
        if (ids.length) await readActives(type, ids, db);
      }
    },
    (taken) => {
      for (const name of taken.keys()) {
        const active = activeKeyOf.get(name);
        if (active) active.checkedAt = 0;
      }
    },
  );

  /** Caches a key row, unwrapping it once; undefined when it does not unwrap under the master key. */
  function remember(row: StoredKey): KeyInfo | undefined {
    const cached = keys.get(row.keyId);
    let key = cached?.key;
    if (!key) {
      try {
        key = unwrapKey(masterKey, row.subject, row.keyId, row.wrappedKey);
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        log.error("a stored channel key does not unwrap; is EVNET_MASTER_KEY the one the API uses?", { key_id: row.keyId, subject: subjectName(row.subject) });
        return undefined;
      }
    }
    const now = Date.now();
    const entry: CachedKey = { key, subject: subjectName(row.subject), revoked: row.revokedAt !== null, checkedAt: now, usedAt: now };
    if (row.revokedAt && row.revokedReason === SUPERSEDED_BY_AUTHENTICATION) {
      entry.supersededAt = row.revokedAt.getTime();
      if (now - entry.supersededAt <= SUPERSEDED_OPENS_FOR_MS) entry.sealedUntil = entry.supersededAt + SUPERSEDED_SEALED_WITHIN_MS;
    }
    keys.set(row.keyId, entry);
    return entry;
  }

  async function auditRejection(message: BusMessage, err: EnvelopeError): Promise<void> {
    const claimed = err.header?.sub ? parseSubject(err.header.sub) : undefined;
    // A driver's request concerns the CP it is keyed by; a CP's message concerns that CP (made
    // printable: a key holding a control character is still audited).
    const cp = printable(message.topic === topics.driverRequests || !claimed ? message.key : claimed.id);
    await auditor.record({
      eventType: "security",
      actorType: claimed?.type ?? (message.topic === topics.driverRequests ? "driver" : "cp"),
      actorId: claimed?.id ?? (message.topic === topics.driverRequests ? null : cp || null),
      resource: cp ? cpResource(cp) : null,
      action: "open_message",
      outcome: "failure",
      reason: `${err.code}: ${err.message}`,
      sourceAddress: `kafka:${message.topic}/${message.partition ?? "?"}@${message.offset ?? "?"}`,
      details: { code: err.code, key_id: err.header?.kid, sender: err.header?.sender, seq: err.header?.seq },
    });
  }

  async function sealWith(subject: Subject, keyId: string, payload: unknown, handle: Db = db): Promise<OutgoingMessage> {
    const info = await lookup(keyId, subject, handle);
    if (!info || info.subject !== subjectName(subject)) throw new NoActiveKeyError(subject);
    return { key: subject.id, value: seal({ sub: info.subject, kid: keyId, sender, seq: counter.next() }, info.key, payload) };
  }

  async function sealForActive(subject: Subject, payload: unknown, handle: Db = db): Promise<OutgoingMessage> {
    const [sealed] = await sealForActives(subject.type, [{ id: subject.id, payload }], handle);
    if (!sealed) throw new NoActiveKeyError(subject);
    return sealed;
  }

  /**
   * Seals each payload under its holder's active key; undefined for a holder without one. The
   * active keys due a re-check are read in one query for all of them (with the keys themselves).
   */
  async function sealForActives(type: SubjectType, items: { id: string; payload: unknown }[], handle: Db = db): Promise<(OutgoingMessage | undefined)[]> {
    await revocationsFollowed(handle);
    const now = Date.now();
    // Holders whose active key is not known are read before sealing; those whose active key is
    // cached and unrevoked but due its re-check are sealed for with it and read again aside
    // (a network's drivers all turned due in the same second, as keys for openings do).
    const unread: string[] = [];
    const due = new Map<string, Subject>();
    for (const id of new Set(items.map((i) => i.id))) {
      const name = subjectName({ type, id });
      const active = activeKeyOf.get(name);
      const cached = active && keys.get(active.keyId);
      if (active) active.usedAt = now;
      if (cached) cached.usedAt = now;
      if (active && fresh(cached) && now - active.checkedAt < readAgainMs) continue;
      if (active && cached && !cached.revoked && readAgainMs > 0) {
        active.checkedAt = now; // not due again while it is being read
        due.set(name, { type, id });
      } else unread.push(id);
    }
    if (due.size) activesAside(due);
    if (unread.length) await readActives(type, unread, handle);
    return items.map(({ id, payload }) => {
      const name = subjectName({ type, id });
      const active = activeKeyOf.get(name);
      const info = active && keys.get(active.keyId);
      if (!active || !info || info.subject !== name || info.revoked) return undefined;
      return { key: id, value: seal({ sub: name, kid: active.keyId, sender, seq: counter.next() }, info.key, payload) };
    });
  }

  /** Whether a notice about this key may go now (one per key per interval), and if so, books it. */
  function noticeDue(keyId: string): boolean {
    if (Date.now() - (lastNoticeAt.get(keyId) ?? 0) < noticeIntervalMs) return false;
    lastNoticeAt.set(keyId, Date.now());
    return true;
  }

  /** Tells a CP its key is revoked, under that key; never throws (the monitor also polls). */
  async function sendRevocationNotice(cpId: string, keyId: string, reason: string, handle: Db = db): Promise<void> {
    try {
      await bus.publish(topics.cpCommands, [await sealWith({ type: "cp", id: cpId }, keyId, keyRevokedNotice(cpId, keyId, reason), handle)]);
    } catch (err) {
      log.warn("could not send a revocation notice", { cp_id: cpId, key_id: keyId, err });
    }
  }

  /** The subject a message must be from, by the topic it travels on: a CP's own topic names the CP. */
  function expectedSubject(message: BusMessage): string | undefined {
    return message.topic === topics.cpEvents ? subjectName({ type: "cp", id: message.key }) : undefined;
  }

  /** `expectedSubject` when the envelope names another subject, else undefined (nothing built for the envelopes that match). */
  function otherExpectedSubject(message: BusMessage, e: SealedEnvelope): string | undefined {
    const matches = message.topic !== topics.cpEvents || (e.subject.type === "cp" && e.subject.id === message.key);
    return matches ? undefined : expectedSubject(message);
  }

  /** What only Central checks of an opened envelope: the topic's kind of key holder and the sender. Throws EnvelopeError. */
  function fromHolder<T>(message: BusMessage, opened: Opened<T>): Inbound<T> {
    const wantType: SubjectType = message.topic === topics.driverRequests ? "driver" : "cp";
    if (opened.subject.type !== wantType)
      throw new EnvelopeError("subject_mismatch", `a ${opened.subject.type}'s key cannot carry this topic's messages`, opened.header);
    if (!sentByHolder(opened.header, opened.subject, message.key))
      throw new EnvelopeError("malformed", `sender ${opened.header.sender} may not send under ${opened.header.sub}'s key on ${message.key}`, opened.header);
    return { ok: true, subject: opened.subject, header: opened.header, payload: opened.payload, pair: opened.pair };
  }

  async function openMessage<T>(message: BusMessage, sequences: SequenceStore): Promise<Inbound<T>> {
    try {
      return fromHolder(message, await open<T>(message.value, lookup, sequences, expectedSubject(message)));
    } catch (err) {
      return refused(message, err);
    }
  }

  /** A message that did not open: audited (and its CP told when its key is revoked). */
  async function refused(message: BusMessage, err: unknown): Promise<Inbound<never>> {
    if (!(err instanceof EnvelopeError)) throw err;
    await auditRejection(message, err);
    const claimed = err.header?.sub ? parseSubject(err.header.sub) : undefined;
    if (err.code === "revoked_key" && claimed?.type === "cp" && err.header?.kid && noticeDue(err.header.kid)) {
      const revoked = await findKey(db, err.header.kid);
      await sendRevocationNotice(claimed.id, err.header.kid, revoked?.revokedReason ?? KEY_REVOKED_REASON);
    }
    return { ok: false, code: err.code, reason: err.message };
  }

  const channel: CentralChannel = {
    openOne(message) {
      return openMessage(message, { last: (kid, from) => lastAcceptedSequence(db, kid, from) });
    },

    async openBatch<T>(messages: BusMessage[], known = new Map<string, number>(), replays = new Set<BusMessage>(), quiet = false): Promise<Inbound<T>[]> {
      const pairs = new Map<string, { keyId: string; sender: string }>();
      const keyTypes = new Map<string, SubjectType>();
      const envelopes = messages.map((m): SealedEnvelope | EnvelopeError => {
        try {
          const e = readHeader(m.value);
          if (!pairs.has(e.pair)) pairs.set(e.pair, { keyId: e.kid, sender: e.sender });
          // readHeader let through only `cp:…` and `driver:…`
          keyTypes.set(e.kid, e.sub.startsWith("driver:") ? "driver" : "cp");
          return e;
        } catch (err) {
          return err as EnvelopeError; // readHeader's only failure: refused (and audited) below like any other
        }
      });
      // One read of the replay table (for the pairs not known) and one of the keys due a
      // re-check, for the whole batch.
      const unknown = [...pairs].filter(([k]) => !known.has(k)).map(([, p]) => p);
      const [read] = await Promise.all([unknown.length ? lastAcceptedSequences(db, unknown) : undefined, prefetch(keyTypes)]);
      for (const [k, seq] of read ?? []) known.set(k, seq);
      // The keys as read for this batch (those not found are unknown): a long batch does not go
      // back to the database for keys that turn due for a re-check while it is being opened.
      const batchKeys = new Map([...keyTypes.keys()].map((id) => [id, keys.get(id)]));
      // The ciphers all at once (on the opening thread, for a batch worth it); every check,
      // in its order, below.
      const sealed: GcmSealed[] = [];
      const sealedAt: number[] = [];
      for (const [i, e] of envelopes.entries()) {
        if (e instanceof EnvelopeError) continue;
        const info = batchKeys.get(e.kid);
        if (info?.subject !== e.sub) continue; // refused before its cipher is looked at
        sealed.push(gcmSealedOf(e, info.key));
        sealedAt.push(i);
      }
      const plaintexts = new Array<string | null | undefined>(messages.length);
      if (sealed.length) for (const [j, text] of (await opener.open(sealed)).entries()) plaintexts[sealedAt[j]!] = text;
      const results: Inbound<T>[] = [];
      const turns = new TurnTaker(YIELD_AFTER_MS, YIELD_CHECK_EVERY);
      for (const [i, m] of messages.entries()) {
        const turn = turns.step();
        if (turn) await turn;
        const e = envelopes[i]!;
        let result: Inbound<T>;
        let stored: number | undefined;
        try {
          if (e instanceof EnvelopeError) throw e;
          stored = known.get(e.pair);
          const last = replays.has(m) ? undefined : stored;
          result = fromHolder(m, openEnvelopeWith<T>(e, batchKeys.get(e.kid), last, otherExpectedSubject(m, e), plaintexts[i]));
        } catch (err) {
          result = quiet && err instanceof EnvelopeError ? { ok: false, code: err.code, reason: err.message } : await refused(m, err);
        }
        // opened: nothing ran between reading the pair's sequence and this
        if (result.ok) known.set(result.pair, Math.max(stored ?? 0, result.header.seq));
        results.push(result);
      }
      return results;
    },

    accept(header, handle = db) {
      return acceptSequence(handle, header.kid, header.sender, header.seq);
    },

    acceptAll(headers, handle = db) {
      return acceptSequences(
        handle,
        headers.map((h) => ({ keyId: h.kid, sender: h.sender, seq: h.seq })),
      );
    },

    sealForCp(cpId, payload, handle) {
      return sealForActive({ type: "cp", id: cpId }, payload, handle);
    },

    sealForDrivers(updates) {
      return sealForActives(
        "driver",
        updates.map((u) => ({ id: u.driverId, payload: u.payload })),
      );
    },

    sealForDriver(driverId, payload, keyId, handle) {
      const subject: Subject = { type: "driver", id: driverId };
      return keyId ? sealWith(subject, keyId, payload, handle) : sealForActive(subject, payload, handle);
    },

    async onControl(message, handle = db) {
      if (message.type === "cp_authenticated") {
        channel.invalidate({ type: "cp", id: message.cp_id });
        const key = await findKey(handle, message.key_id);
        const stillActive = key !== undefined && key.cpId === message.cp_id && key.revokedAt === null;
        return stillActive ? { transition: { to: "ACTIVE", reason: "authenticated" } } : {};
      }
      if (message.type === "key_revoked") {
        channel.invalidate({ type: "cp", id: message.cp_id });
        // Re-authenticated already (the control messages raced): the new key stands.
        if (await findActiveKey(handle, message.cp_id)) return {};
        const held = await newestOf(handle, message.key_ids);
        if (held && held.cpId === message.cp_id && noticeDue(held.keyId)) await sendRevocationNotice(message.cp_id, held.keyId, message.reason, handle);
        return { transition: { to: "STOPPED", reason: KEY_REVOKED_REASON } };
      }
      return {};
    },

    invalidate(subject) {
      const name = subjectName(subject);
      activeKeyOf.delete(name);
      for (const [keyId, entry] of keys) if (entry.subject === name) keys.delete(keyId);
    },

    cached() {
      return { keys: keys.size, activeKeys: activeKeyOf.size };
    },
  };
  return channel;
}
