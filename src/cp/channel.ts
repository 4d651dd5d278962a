/**
 * A charging point's end of the encrypted channel, used by its engine and its monitor alike:
 * seals what they send Central (topics.cpEvents) and opens what Central sends them
 * (topics.cpCommands) with the CP's channel key (src/channel/client.ts).
 */
import type { BusMessage, OutgoingMessage } from "../bus/bus.ts";
import { type ClientInbound, type ClientOpenFailure, createClientChannel } from "../channel/client.ts";
import { readHeader } from "../crypto/envelope.ts";
import type { ChannelKey } from "../crypto/keys.ts";

export { DEFAULT_FRESHNESS_MS } from "../channel/client.ts";

export type CpSenderRole = "engine" | "monitor";

export interface CpChannelOptions {
  cpId: string;
  role: CpSenderRole;
  key: ChannelKey;
  /** Central's messages older (or further in the future) than this are refused. */
  freshnessMs?: number;
}

export type CpOpenFailure = ClientOpenFailure;
export type CpInbound<T> = ClientInbound<T>;

export interface CpChannel {
  readonly cpId: string;
  readonly keyId: string;
  seal(payload: unknown): OutgoingMessage;
  open<T = unknown>(message: BusMessage): Promise<CpInbound<T>>;
  /** After re-authentication: seal and open with the new key from now on. */
  setKey(key: ChannelKey): void;
}

export function createCpChannel(options: CpChannelOptions): CpChannel {
  const { cpId, role } = options;
  const sender = `${role}:${cpId}`;
  const channel = createClientChannel({ subject: { type: "cp", id: cpId }, key: options.key, freshnessMs: options.freshnessMs });
  return {
    cpId,
    get keyId() {
      return channel.keyId;
    },
    seal: (payload) => channel.seal(payload, sender, cpId),
    open: (message) => channel.open(message),
    setKey: (key) => channel.setKey(key),
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
