/**
 * A key holder's end of the encrypted channel with Central (a CP's engine or monitor, a
 * driver's app): seals what it sends Central with its channel key, and opens what Central sends
 * it. Such a client keeps no database, so replay protection is a freshness window plus the
 * messages seen within it: a message from Central older than the window is refused even after
 * a restart forgot what was seen, and one seen before within it is refused as a replay. Seen
 * messages, not a last sequence number, so that Central's messages may arrive out of order
 * (several Central instances, an outbox resent after an outage) without being refused.
 */
import type { BusMessage, OutgoingMessage } from "../bus/bus.ts";
import {
  EnvelopeError,
  type EnvelopeFailure,
  type EnvelopeHeader,
  open,
  SequenceCounter,
  type Subject,
  seal,
  subjectName,
  UNCHECKED_SEQUENCES,
} from "../crypto/envelope.ts";
import type { ChannelKey } from "../crypto/keys.ts";

export interface ClientChannelOptions {
  subject: Subject;
  key: ChannelKey;
  /** Central's messages older (or further in the future) than this are refused. */
  freshnessMs?: number;
}

/** Besides the envelope's own failures: a message for someone else, one too old to trust, one not from Central. */
export type ClientOpenFailure = EnvelopeFailure | "not_for_me" | "stale" | "not_from_central";

export type ClientInbound<T> = { ok: true; header: EnvelopeHeader; payload: T } | { ok: false; code: ClientOpenFailure; reason: string };

export interface ClientChannel {
  readonly subject: Subject;
  readonly keyId: string;
  /** Seals `payload` as `sender`, for the bus key it will travel under. */
  seal(payload: unknown, sender: string, busKey: string): OutgoingMessage;
  /** Opens a message from Central keyed for this subject. */
  open<T = unknown>(message: BusMessage): Promise<ClientInbound<T>>;
  /** After authenticating again: seal and open with the new key from now on. */
  setKey(key: ChannelKey): void;
}

export const DEFAULT_FRESHNESS_MS = 120_000;

export function createClientChannel(options: ClientChannelOptions): ClientChannel {
  const { subject } = options;
  const sub = subjectName(subject);
  const freshnessMs = options.freshnessMs ?? DEFAULT_FRESHNESS_MS;
  const counter = new SequenceCounter();
  /** Messages from Central seen within the window: "kid|sender|seq" -> when sealed, oldest first. */
  const seen = new Map<string, number>();
  let current = options.key;

  function forgetOld(now: number): void {
    for (const [id, ts] of seen) {
      if (now - ts <= freshnessMs && seen.size < 100_000) break;
      seen.delete(id);
    }
  }

  return {
    subject,
    get keyId() {
      return current.keyId;
    },

    seal(payload, sender, busKey) {
      return { key: busKey, value: seal({ sub, kid: current.keyId, sender, seq: counter.next() }, current.key, payload) };
    },

    async open<T>(message: BusMessage): Promise<ClientInbound<T>> {
      // Every client reads a shared topic; messages keyed for others are not an attack.
      if (message.key !== subject.id) return { ok: false, code: "not_for_me", reason: `message for ${message.key}` };
      const key = current;
      try {
        const keyOf = (kid: string) => (kid === key.keyId ? { key: key.key, subject: sub, revoked: false } : undefined);
        const { header, payload } = await open<T>(message.value, keyOf, UNCHECKED_SEQUENCES, sub);
        if (!header.sender.startsWith("central:")) return { ok: false, code: "not_from_central", reason: `sender ${header.sender} is not Central` };
        const now = Date.now();
        if (Math.abs(now - header.ts) > freshnessMs) return { ok: false, code: "stale", reason: `sealed ${Math.round((now - header.ts) / 1000)} s ago` };
        const id = `${header.kid}|${header.sender}|${header.seq}`;
        if (seen.has(id)) return { ok: false, code: "replayed", reason: `sequence ${header.seq} from ${header.sender} was seen before` };
        forgetOld(now);
        seen.set(id, header.ts);
        return { ok: true, header, payload };
      } catch (err) {
        if (err instanceof EnvelopeError) return { ok: false, code: err.code, reason: err.message };
        throw err;
      }
    },

    setKey(key) {
      current = key;
    },
  };
}
