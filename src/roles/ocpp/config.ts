/** `evnet ocpp` settings: where chargers connect, how they must prove who they are, and the rest of evnet. */
import * as v from "valibot";
import { busEntries, databaseEntries } from "../../config/common.ts";
import { bool, ConfigError, loadConfig, optionalString, port, positiveNumber, secretToken, url } from "../../config/env.ts";
import { isLoopback } from "../../http/client-address.ts";

export const gatewayConfigSchema = v.object({
  ...databaseEntries,
  ...busEntries,
  /** Where chargers connect: ws(s)://OCPP_HOST:OCPP_PORT/ocpp/<charger id>. */
  OCPP_HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  OCPP_PORT: port(9000),
  /** TLS (security profiles 2 and 3): the gateway's certificate and key, from `evnet certs`. */
  OCPP_TLS_CERT: optionalString(),
  OCPP_TLS_KEY: optionalString(),
  /** The CA whose client certificates name chargers (profile 3); default EVNET_CA_FILE. */
  OCPP_CLIENT_CA: optionalString(),
  /** Plain ws:// (profile 1) on an address other than loopback: only when the operator says so. */
  OCPP_ALLOW_PLAIN: bool(false),
  /** Seconds between a charger's Heartbeats, told to it at boot. */
  OCPP_HEARTBEAT_INTERVAL: positiveNumber(60, "a number of seconds"),
  /** Seconds between WebSocket pings: a charger that misses one is dropped at the next (within 2 intervals). */
  OCPP_PING_INTERVAL: positiveNumber(20, "a number of seconds"),
  /** Seconds between the heartbeats the gateway sends Central for each connected charger. */
  OCPP_CENTRAL_HEARTBEAT_INTERVAL: positiveNumber(15, "a number of seconds"),
  /** Seconds the gateway waits for a charger's answer to a call. */
  OCPP_CALL_TIMEOUT: positiveNumber(30, "a number of seconds"),
  /** This gateway's name (several gateways share the chargers). */
  OCPP_INSTANCE_ID: optionalString(),
  /** The Central API, which issues the chargers' channel keys. */
  API_URL: url(),
  EVNET_CA_FILE: optionalString(),
  /** Proves to the API that this is an OCPP gateway (the API's EVNET_GATEWAY_TOKEN). */
  EVNET_GATEWAY_TOKEN: secretToken(),
});

export type GatewayConfig = v.InferOutput<typeof gatewayConfigSchema>;

export function loadGatewayConfig(flags: Partial<Record<keyof GatewayConfig, unknown>> = {}): GatewayConfig {
  return checkGatewayConfig(loadConfig(gatewayConfigSchema, flags));
}

export function checkGatewayConfig(config: GatewayConfig): GatewayConfig {
  if (Boolean(config.OCPP_TLS_CERT) !== Boolean(config.OCPP_TLS_KEY))
    throw new ConfigError("invalid configuration:\n  OCPP_TLS_CERT, OCPP_TLS_KEY: give both (wss://, profiles 2 and 3) or neither (ws://, profile 1)");
  if (!config.OCPP_TLS_CERT && !config.OCPP_ALLOW_PLAIN && config.OCPP_HOST !== "localhost" && !isLoopback(config.OCPP_HOST))
    throw new ConfigError(
      `invalid configuration:\n  OCPP_HOST: plain ws:// (security profile 1) sends chargers' passwords unencrypted; listen on loopback, give OCPP_TLS_CERT and OCPP_TLS_KEY, or set OCPP_ALLOW_PLAIN=true on a network you trust (got "${config.OCPP_HOST}")`,
    );
  return config;
}
