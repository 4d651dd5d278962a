/**
 * Central's end of the encrypted CP channel. Every CP -> Central bus message is opened here and
 * every Central -> CP message sealed here, with the CP's channel key from `cp_keys` (unwrapped
 * under the master key and cached).
 *
 * A message that fails to open (malformed, unknown or revoked key, another CP's id, tampered,
 * replayed) is audited as a `security` event with its reason and reported as `ok: false`; it
 * never throws, so a bad message cannot stall the consumer. Only a transient failure (the
 * database is down) throws, so the bus delivers the message again.
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
  type KeyInfo,
  type KeyLookup,
  open,
  openEnvelope,
  readHeader,
  type SealedEnvelope,
  SequenceCounter,
  type SequenceStore,
  seal,
} from "../../crypto/envelope.ts";
import { KeyError, unwrapKey } from "../../crypto/keys.ts";
import type { Db } from "../../db/client.ts";
import { findActiveKey, findKey, findKeys, newestOf, SUPERSEDED_BY_AUTHENTICATION } from "../../db/repos/cp-keys.ts";
import { acceptSequence, acceptSequences, lastAcceptedSequence, lastAcceptedSequences, sequencePairKey } from "../../db/repos/message-sequences.ts";
import type { CpKeyRow } from "../../db/schema/index.ts";
import { printable } from "../../domain/ids.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { KEY_REVOKED_REASON } from "../../identity/revoke.ts";
import { KnownError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";

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
   * How long a key's "not revoked" is trusted before `cp_keys` is read again. Control messages
   * invalidate at once; this bounds how long a key revoked without one (the Registry's DELETE)
   * keeps working.
   */
  keyRecheckMs?: number;
  /** At most one revocation notice per key in this window, however many refused messages arrive. */
  noticeIntervalMs?: number;
}

export type Inbound<T> = { ok: true; cpId: string; header: EnvelopeHeader; payload: T } | { ok: false; code: EnvelopeFailure; reason: string };

/** What Central should do with the CP's state after a control message (it applies its own rules). */
export interface ControlEffect {
  transition?: { to: "ACTIVE" | "STOPPED"; reason: string };
}

export class NoActiveKeyError extends KnownError {
  override name = "NoActiveKeyError";
  constructor(readonly cpId: string) {
    super(`charging point ${cpId} has no active key (not authenticated, or its key was revoked)`);
  }
}

export interface CentralChannel {
  /** Opens a CP -> Central message (topics.cpEvents). Does not record its sequence: see `accept`. */
  openFromCp<T = unknown>(message: BusMessage): Promise<Inbound<T>>;
  /**
   * Opens a batch of CP -> Central messages with one read of the replay table. Within the batch
   * too, a sender's sequence must rise: a copy later in the same batch is refused as replayed.
   * `known`, when given, holds last accepted sequences (by `sequencePairKey`) the caller knows
   * to be current: only pairs missing from it are read, and it is left holding every pair of
   * the batch with its last sequence once the batch is applied.
   */
  openBatchFromCp<T = unknown>(messages: BusMessage[], known?: Map<string, number>): Promise<Inbound<T>[]>;
  /**
   * Records the message's sequence as accepted; call it in the transaction that applies the
   * message. False: a redelivery or a concurrent copy was accepted first, so apply nothing.
   */
  accept(header: EnvelopeHeader, db?: Db): Promise<boolean>;
  /** `accept` for a batch (two statements); one verdict per header, in order. */
  acceptAll(headers: EnvelopeHeader[], db?: Db): Promise<boolean[]>;
  /** Seals a Central -> CP message under the CP's active key, keyed by the CP (topics.cpCommands). */
  sealForCp(cpId: string, payload: unknown): Promise<OutgoingMessage>;
  /** Applies a control message to the key cache and says how the CP's state should change. */
  onControl(message: ControlMessage): Promise<ControlEffect>;
  /** Forgets what is cached about a CP's keys. */
  invalidate(cpId: string): void;
}

interface CachedKey extends KeyInfo {
  checkedAt: number;
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

const CP_SENDER = /^(engine|monitor):(.+)$/;

/** Envelopes opened between two turns of the event loop. */
const YIELD_EVERY = 128;

export function createCentralChannel(options: CentralChannelOptions): CentralChannel {
  const { db, auditor, log, bus, topics, masterKey } = options;
  const recheckMs = options.keyRecheckMs ?? 3000;
  const noticeIntervalMs = options.noticeIntervalMs ?? 10_000;
  const sender = `central:${options.instance}`;
  const counter = new SequenceCounter();
  const keys = new Map<string, CachedKey>();
  const activeKeyOf = new Map<string, { keyId: string; checkedAt: number }>();
  const lastNoticeAt = new Map<string, number>();

  /** Whether a cached key can be used without reading cp_keys again (a revoked key stays revoked). */
  function fresh(cached: CachedKey | undefined): cached is CachedKey {
    if (cached?.supersededAt !== undefined && Date.now() - cached.supersededAt > SUPERSEDED_OPENS_FOR_MS) cached.sealedUntil = undefined;
    return cached !== undefined && (cached.revoked || Date.now() - cached.checkedAt < recheckMs);
  }

  /** A key by id; a revoked key stays revoked, so only unrevoked ones are read again. */
  async function lookup(keyId: string): Promise<KeyInfo | undefined> {
    const cached = keys.get(keyId);
    if (fresh(cached)) return cached;
    const row = await findKey(db, keyId);
    if (!row) {
      keys.delete(keyId);
      return undefined;
    }
    return remember(row);
  }

  /** Reads, in one query, the keys of a batch that are not cached or are due a re-check. */
  async function prefetch(keyIds: string[]): Promise<void> {
    const due = keyIds.filter((id) => !fresh(keys.get(id)));
    if (due.length === 0) return;
    const rows = await findKeys(db, due);
    for (const row of rows) remember(row);
    const found = new Set(rows.map((r) => r.keyId));
    for (const id of due) if (!found.has(id)) keys.delete(id);
  }

  /** Caches a key row, unwrapping it once; undefined when it does not unwrap under the master key. */
  function remember(row: CpKeyRow): KeyInfo | undefined {
    const keyId = row.keyId;
    const cached = keys.get(keyId);
    let key = cached?.key;
    if (!key) {
      try {
        key = unwrapKey(masterKey, row.cpId, row.keyId, row.wrappedKey);
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        log.error("a stored channel key does not unwrap; is EVNET_MASTER_KEY the one the API uses?", { key_id: keyId, cp_id: row.cpId });
        return undefined;
      }
    }
    const entry: CachedKey = { key, cpId: row.cpId, revoked: row.revokedAt !== null, checkedAt: Date.now() };
    if (row.revokedAt && row.revokedReason === SUPERSEDED_BY_AUTHENTICATION) {
      entry.supersededAt = row.revokedAt.getTime();
      if (Date.now() - entry.supersededAt <= SUPERSEDED_OPENS_FOR_MS) entry.sealedUntil = entry.supersededAt + SUPERSEDED_SEALED_WITHIN_MS;
    }
    keys.set(keyId, entry);
    return entry;
  }

  async function auditRejection(message: BusMessage, err: EnvelopeError): Promise<void> {
    const named = err.header?.cp ?? message.key;
    const claimed = named ? printable(named) : undefined;
    await auditor.record({
      eventType: "security",
      actorType: "cp",
      actorId: claimed ?? null,
      resource: claimed ? cpResource(claimed) : null,
      action: "open_message",
      outcome: "failure",
      reason: `${err.code}: ${err.message}`,
      sourceAddress: `kafka:${message.topic}/${message.partition ?? "?"}@${message.offset ?? "?"}`,
      details: { code: err.code, key_id: err.header?.kid, sender: err.header?.sender, seq: err.header?.seq },
    });
  }

  async function sealWith(cpId: string, keyId: string, payload: unknown): Promise<OutgoingMessage> {
    const info = await lookup(keyId);
    if (!info || info.cpId !== cpId) throw new NoActiveKeyError(cpId);
    return { key: cpId, value: seal({ cp: cpId, kid: keyId, sender, seq: counter.next() }, info.key, payload) };
  }

  /** Whether a notice about this key may go now (one per key per interval), and if so, books it. */
  function noticeDue(keyId: string): boolean {
    if (Date.now() - (lastNoticeAt.get(keyId) ?? 0) < noticeIntervalMs) return false;
    lastNoticeAt.set(keyId, Date.now());
    return true;
  }

  /** Tells a CP its key is revoked, under that key; never throws (the monitor also polls). */
  async function sendRevocationNotice(cpId: string, keyId: string, reason: string): Promise<void> {
    try {
      await bus.publish(topics.cpCommands, [await sealWith(cpId, keyId, keyRevokedNotice(cpId, keyId, reason))]);
    } catch (err) {
      log.warn("could not send a revocation notice", { cp_id: cpId, key_id: keyId, err });
    }
  }

  async function openOne<T>(message: BusMessage, sequences: SequenceStore, envelope?: SealedEnvelope, keyOf: KeyLookup = lookup): Promise<Inbound<T>> {
    try {
      const opened = envelope ? await openEnvelope<T>(envelope, keyOf, sequences, message.key) : await open<T>(message.value, keyOf, sequences, message.key);
      const from = CP_SENDER.exec(opened.header.sender);
      if (!from || from[2] !== opened.header.cp)
        throw new EnvelopeError("malformed", `sender ${opened.header.sender} is not ${opened.header.cp}'s engine or monitor`, opened.header);
      return { ok: true, cpId: opened.header.cp, header: opened.header, payload: opened.payload };
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      await auditRejection(message, err);
      if (err.code === "revoked_key" && err.header?.cp && err.header.kid && noticeDue(err.header.kid)) {
        const revoked = await findKey(db, err.header.kid);
        await sendRevocationNotice(err.header.cp, err.header.kid, revoked?.revokedReason ?? KEY_REVOKED_REASON);
      }
      return { ok: false, code: err.code, reason: err.message };
    }
  }

  const channel: CentralChannel = {
    openFromCp(message) {
      return openOne(message, { last: (kid, from) => lastAcceptedSequence(db, kid, from) });
    },

    async openBatchFromCp<T>(messages: BusMessage[], known = new Map<string, number>()): Promise<Inbound<T>[]> {
      const pairs = new Map<string, { keyId: string; sender: string }>();
      const envelopes = messages.map((m) => {
        try {
          const e = readHeader(m.value);
          pairs.set(sequencePairKey(e.kid, e.sender), { keyId: e.kid, sender: e.sender });
          return e;
        } catch {
          return undefined; // opened (and refused, and audited) below like any other
        }
      });
      const keyIds = [...new Set([...pairs.values()].map((p) => p.keyId))];
      // One read of the replay table (for the pairs not known) and one of the keys due a
      // re-check, for the whole batch.
      const unknown = [...pairs].filter(([k]) => !known.has(k)).map(([, p]) => p);
      const [read] = await Promise.all([unknown.length ? lastAcceptedSequences(db, unknown) : undefined, prefetch(keyIds)]);
      for (const [k, seq] of read ?? []) known.set(k, seq);
      const batch: SequenceStore = { last: (kid, from) => known.get(sequencePairKey(kid, from)) };
      // The keys as read for this batch: a long batch does not go back to the database for
      // keys that turn due for a re-check while it is being opened.
      const batchKeys = new Map(keyIds.map((id) => [id, keys.get(id)]));
      const keyOf: KeyLookup = (kid) => batchKeys.get(kid) ?? lookup(kid);
      const results: Inbound<T>[] = [];
      for (const [i, m] of messages.entries()) {
        // Opening is CPU work: now and then let in the answers other batches are waiting for.
        if (i > 0 && i % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const result = await openOne<T>(m, batch, envelopes[i], keyOf);
        if (result.ok) known.set(sequencePairKey(result.header.kid, result.header.sender), result.header.seq);
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

    async sealForCp(cpId, payload) {
      let active = activeKeyOf.get(cpId);
      if (!active || Date.now() - active.checkedAt >= recheckMs) {
        const row = await findActiveKey(db, cpId);
        if (!row) {
          activeKeyOf.delete(cpId);
          throw new NoActiveKeyError(cpId);
        }
        active = { keyId: row.keyId, checkedAt: Date.now() };
        activeKeyOf.set(cpId, active);
      }
      return sealWith(cpId, active.keyId, payload);
    },

    async onControl(message) {
      if (message.type === "cp_authenticated") {
        channel.invalidate(message.cp_id);
        const key = await findKey(db, message.key_id);
        const stillActive = key !== undefined && key.cpId === message.cp_id && key.revokedAt === null;
        return stillActive ? { transition: { to: "ACTIVE", reason: "authenticated" } } : {};
      }
      if (message.type === "key_revoked") {
        channel.invalidate(message.cp_id);
        // Re-authenticated already (the control messages raced): the new key stands.
        if (await findActiveKey(db, message.cp_id)) return {};
        const held = await newestOf(db, message.key_ids);
        if (held && held.cpId === message.cp_id && noticeDue(held.keyId)) await sendRevocationNotice(message.cp_id, held.keyId, message.reason);
        return { transition: { to: "STOPPED", reason: KEY_REVOKED_REASON } };
      }
      return {};
    },

    invalidate(cpId) {
      activeKeyOf.delete(cpId);
      for (const [keyId, entry] of keys) if (entry.cpId === cpId) keys.delete(keyId);
    },
  };
  return channel;
}
