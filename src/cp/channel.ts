/**
 * A charging point's end of the encrypted channel, used by its engine and its monitor alike:
 * seals what they send Central (topics.cpEvents) and opens what Central sends them
 * (topics.cpCommands) with the CP's channel key.
 *
 * A CP keeps no database, so replay protection here is in memory plus a freshness window: a
 * message from Central older than the window is refused even after a restart forgot the
 * sequence numbers already seen.
 */
import type { BusMessage, OutgoingMessage } from "../bus/bus.ts";
import { EnvelopeError, type EnvelopeFailure, type EnvelopeHeader, MemorySequences, open, readHeader, SequenceCounter, seal } from "../crypto/envelope.ts";
import type { ChannelKey } from "../crypto/keys.ts";

export type CpSenderRole = "engine" | "monitor";

export interface CpChannelOptions {
  cpId: string;
  role: CpSenderRole;
  key: ChannelKey;
  /** Central's messages older (or further in the future) than this are refused. */
  freshnessMs?: number;
}

/** Besides the envelope's own failures: a message for another CP, or one too old to trust. */
export type CpOpenFailure = EnvelopeFailure | "not_for_me" | "stale" | "not_from_central";

export type CpInbound<T> = { ok: true; header: EnvelopeHeader; payload: T } | { ok: false; code: CpOpenFailure; reason: string };

export interface CpChannel {
  readonly cpId: string;
  readonly keyId: string;
  seal(payload: unknown): OutgoingMessage;
  open<T = unknown>(message: BusMessage): Promise<CpInbound<T>>;
  /** After re-authentication: seal and open with the new key from now on. */
  setKey(key: ChannelKey): void;
}

export const DEFAULT_FRESHNESS_MS = 120_000;

export function createCpChannel(options: CpChannelOptions): CpChannel {
  const { cpId, role } = options;
  const freshnessMs = options.freshnessMs ?? DEFAULT_FRESHNESS_MS;
  const sender = `${role}:${cpId}`;
  const counter = new SequenceCounter();
  const seen = new MemorySequences();
  let current = options.key;

  return {
    cpId,
    get keyId() {
      return current.keyId;
    },

    seal(payload) {
      return { key: cpId, value: seal({ cp: cpId, kid: current.keyId, sender, seq: counter.next() }, current.key, payload) };
    },

    async open<T>(message: BusMessage): Promise<CpInbound<T>> {
      // Every CP reads the one commands topic; messages keyed for others are not an attack.
      if (message.key !== cpId) return { ok: false, code: "not_for_me", reason: `message for ${message.key}` };
      const key = current;
      try {
        const opened = await open<T>(message.value, (kid) => (kid === key.keyId ? { key: key.key, cpId, revoked: false } : undefined), seen, cpId);
        const { header } = opened;
        if (!header.sender.startsWith("central:")) return { ok: false, code: "not_from_central", reason: `sender ${header.sender} is not Central` };
        if (Math.abs(Date.now() - header.ts) > freshnessMs)
          return { ok: false, code: "stale", reason: `sealed ${Math.round((Date.now() - header.ts) / 1000)} s ago` };
        seen.accept(header.kid, header.sender, header.seq);
        return { ok: true, header, payload: opened.payload };
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

/** The key id a sealed message names, without opening it (undefined: not an envelope). */
export function keyIdOf(message: BusMessage): string | undefined {
  try {
    return readHeader(message.value).kid;
  } catch {
    return undefined;
  }
}
