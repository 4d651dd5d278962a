/**
 * The gateway's one call to the API: channel keys of chargers it has just authenticated. Keys
 * asked for within a few milliseconds of each other travel in one request (a reconnection storm
 * after a gateway restart is a few hundred requests, not ten thousand), each answered on its own.
 */
import type { ChannelKey } from "../../crypto/keys.ts";
import { type Fetch, tlsFetch } from "../../http/tls-client.ts";
import { Batcher } from "../../lib/batcher.ts";
import { AppError } from "../../lib/errors.ts";

export interface KeyClient {
  keyFor(cpId: string, proof: "password" | "client_certificate", chargerAddress?: string): Promise<ChannelKey>;
}

interface KeyRequest {
  cp_id: string;
  proof: "password" | "client_certificate";
  charger_address?: string;
}

interface KeysReply {
  keys?: { cp_id: string; key_id: string; key: string }[];
  refused?: { cp_id: string; reason: string }[];
  error?: { message?: string };
}

/** The API's limit on one request (src/roles/api/routes/ocpp-keys.ts). */
export const MAX_KEYS_PER_REQUEST = 250;

export function createKeyClient(o: { apiUrl: string; caFile?: string; token: string; gateway: string }): KeyClient {
  const fetcher: Fetch = tlsFetch(o.caFile, "EVNET_CA_FILE");
  const batcher = new Batcher<KeyRequest, ChannelKey>({
    maxBatch: MAX_KEYS_PER_REQUEST,
    lingerMs: 10,
    maxInFlight: 4,
    async call(requests) {
      const res = await fetcher(`${o.apiUrl}/ev/central/ocpp/keys`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.token}` },
        body: JSON.stringify({ gateway: o.gateway, chargers: requests }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json().catch(() => undefined)) as KeysReply | undefined;
      if (!res.ok || !body?.keys) throw new AppError("unavailable", `the API gave no keys (${res.status}): ${body?.error?.message ?? "no reason given"}`);
      const keys = new Map(body.keys.map((k) => [k.cp_id, k]));
      const refused = new Map((body.refused ?? []).map((r) => [r.cp_id, r.reason]));
      return requests.map((r) => {
        const k = keys.get(r.cp_id);
        if (k) return { keyId: k.key_id, key: new Uint8Array(Buffer.from(k.key, "base64")) };
        return new AppError("unavailable", `the API refused ${r.cp_id}'s key: ${refused.get(r.cp_id) ?? "no reason given"}`);
      });
    },
  });
  return {
    keyFor: (cpId, proof, chargerAddress) => batcher.ask({ cp_id: cpId, proof, ...(chargerAddress ? { charger_address: chargerAddress.slice(0, 128) } : {}) }),
  };
}
