/**
 * A charging network with an OCPP gateway, as separate processes on the real PostgreSQL and
 * Kafka: Registry, API (with a gateway token), Central and `evnet ocpp`. Chargers are
 * registered through the Registry's REST endpoint, as an operator would.
 */
import { callJson, ENROLLMENT_TOKEN } from "./identity.ts";
import { TestNetwork } from "./network-processes.ts";
import type { RoleProcess } from "./processes.ts";

export const GATEWAY_TOKEN = "gateway-token-for-ocpp-tests";

export class OcppNetwork extends TestNetwork {
  gatewayUrl!: string;
  gateway!: RoleProcess;

  constructor() {
    super({ heartbeatS: 1, apiEnv: { EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN } });
  }

  gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.database.url,
      ...this.busEnv("cp"), // the gateway plays its chargers' part on the bus
      API_URL: this.apiUrl,
      EVNET_CA_FILE: this.certs.caFile,
      EVNET_GATEWAY_TOKEN: GATEWAY_TOKEN,
      OCPP_PORT: "0",
      OCPP_CENTRAL_HEARTBEAT_INTERVAL: "1",
      OCPP_PING_INTERVAL: "2",
      ...extra,
    };
  }

  /** Starts a gateway; returns its ws(s) URL up to /ocpp. */
  async startGateway(name = "gateway-1", extra: Record<string, string> = {}): Promise<{ url: string; role: RoleProcess }> {
    const role = this.spawn(name, ["ocpp"], this.gatewayEnv({ OCPP_INSTANCE_ID: name, ...extra }));
    const line = await role.waitForLine(/ocpp gateway listening/, 60_000);
    return { url: /url=(\S+)/.exec(line)![1]!, role };
  }

  async startAll(): Promise<void> {
    await this.start();
    await this.startCentral();
    const g = await this.startGateway();
    this.gatewayUrl = g.url;
    this.gateway = g.role;
  }

  /** Registers a charger through the Registry; returns its OCPP password. */
  async registerCharger(cpId: string, o: { location?: string; price?: number; profile?: 1 | 2 | 3 } = {}): Promise<string> {
    const reply = await callJson(this.certs.fetch, "POST", `${this.registryUrl}/ev/registry/ocpp-chargers`, {
      token: ENROLLMENT_TOKEN,
      body: { cp_id: cpId, location: o.location ?? "Madrid", price_per_kwh: o.price ?? 0.3, security_profile: o.profile ?? 1 },
    });
    if (reply.status >= 300) throw new Error(`registering ${cpId}: ${reply.status} ${reply.text}`);
    return reply.body.ocpp_password;
  }

  async cpRow(cpId: string) {
    return (await this.sql`select * from charging_points where cp_id = ${cpId}`)[0];
  }

  async sessionsAt(cpId: string) {
    return this.sql`select * from charging_sessions where cp_id = ${cpId} order by started_at`;
  }
}
