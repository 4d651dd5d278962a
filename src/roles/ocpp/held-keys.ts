/**
 * The chargers' channels (key and sequence) this gateway holds, kept after a charger
 * disconnects. A charger that connects here again while that key is still its active one gets
 * the same channel back: a reconnection costs the API nothing, and Central, which never saw the
 * key change, only sees the heartbeats resume. Any other connection gets a fresh key from the
 * API (in batches, key-client.ts). A fresh key revokes the charger's previous one, so a socket
 * still open under it (at this gateway or another) is noticed and closed (commands.ts watchKeys),
 * and what it would seal is refused by Central.
 *
 * Why not reuse a key held by another gateway: its socket under that key might still look alive
 * there; a new key is what tells that gateway the charger has gone.
 */
import { type CpChannel, createCpChannel } from "../../cp/channel.ts";
import type { KeyClient } from "./key-client.ts";

export interface ChannelFor {
  channel: CpChannel;
  /** True when the charger's key was still the one held here. */
  reused: boolean;
}

/** Past this many chargers the longest-held channels are dropped first (they get a new key if they come back). */
const HOLD_AT_MOST = 200_000;

export class HeldKeys {
  private readonly held = new Map<string, CpChannel>();
  /** Keys being fetched, so two handshakes of one charger at once share one key. */
  private readonly fetching = new Map<string, Promise<CpChannel>>();

  constructor(private readonly keys: KeyClient) {}

  async channelFor(cpId: string, activeKeyId: string | null, proof: "password" | "client_certificate", chargerAddress?: string): Promise<ChannelFor> {
    const known = this.held.get(cpId);
    if (known && activeKeyId !== null && known.keyId === activeKeyId) return { channel: known, reused: true };
    let fetch = this.fetching.get(cpId);
    if (!fetch) {
      fetch = this.keys.keyFor(cpId, proof, chargerAddress).then((key) => createCpChannel({ cpId, role: "engine", key }));
      this.fetching.set(cpId, fetch);
      void fetch.then(
        (channel) => this.hold(cpId, channel),
        () => undefined,
      );
      void fetch.finally(() => this.fetching.delete(cpId)).catch(() => undefined);
    }
    return { channel: await fetch, reused: false };
  }

  /** The key is no longer the charger's (revoked, or replaced at another gateway): never give it back. */
  forget(cpId: string, keyId: string): void {
    if (this.held.get(cpId)?.keyId === keyId) this.held.delete(cpId);
  }

  private hold(cpId: string, channel: CpChannel): void {
    this.held.delete(cpId);
    if (this.held.size >= HOLD_AT_MOST) this.held.delete(this.held.keys().next().value!);
    this.held.set(cpId, channel);
  }
}
