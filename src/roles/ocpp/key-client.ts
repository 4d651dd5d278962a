/** The gateway's one call to the API: the channel key of a charger it has just authenticated. */
import type { ChannelKey } from "../../crypto/keys.ts";
import { type Fetch, tlsFetch } from "../../http/tls-client.ts";
import { AppError } from "../../lib/errors.ts";

export interface KeyClient {
  keyFor(cpId: string, proof: "password" | "client_certificate", chargerAddress?: string): Promise<ChannelKey>;
}

export function createKeyClient(o: { apiUrl: string; caFile?: string; token: string; gateway: string }): KeyClient {
  const fetcher: Fetch = tlsFetch(o.caFile, "EVNET_CA_FILE");
  return {
    async keyFor(cpId, proof, chargerAddress) {
      const res = await fetcher(`${o.apiUrl}/ev/central/ocpp/chargers/${encodeURIComponent(cpId)}/key`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${o.token}` },
        body: JSON.stringify({ proof, gateway: o.gateway, charger_address: chargerAddress?.slice(0, 128) }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => undefined)) as { key_id?: string; key?: string; error?: { message?: string } } | undefined;
      if (!res.ok || !body?.key_id || !body.key)
        throw new AppError("unavailable", `the API refused ${cpId}'s key (${res.status}): ${body?.error?.message ?? "no reason given"}`);
      return { keyId: body.key_id, key: new Uint8Array(Buffer.from(body.key, "base64")) };
    },
  };
}
