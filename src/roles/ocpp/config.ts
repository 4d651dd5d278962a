/** `evnet ocpp` settings: where chargers connect, how they must prove who they are, and the rest of evnet. */
import * as v from "valibot";
import { apiUrlSetting, busSettings, caFileSetting, checkTlsPair, databaseSettings, logSettings } from "../../config/common.ts";
import { bool, ConfigError, integer, optionalString, port, positiveNumber, settingLabel, url } from "../../config/env.ts";
import { gatewayTokenSetting } from "../../config/identity.ts";
import { type ConfigOf, defineSettings, type FlagValues, loadSettings, schemaOf } from "../../config/settings.ts";
import { isLoopback } from "../../http/client-address.ts";

const seconds = (fallback: number) => positiveNumber(fallback, "a number of seconds");

export const gatewaySettings = defineSettings({
  OCPP_HOST: {
    flag: "--host <host>",
    help: "address chargers connect to, ws(s)://OCPP_HOST:OCPP_PORT/ocpp/<charger id> (OCPP 1.6J or 2.0.1)",
    schema: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  },
  OCPP_PORT: { flag: "--port <port>", help: "port chargers connect to", schema: port(9000) },
  OCPP_TLS_CERT: {
    flag: "--tls-cert <file>",
    help: "server certificate for wss:// (security profiles 2 and 3, from 'evnet certs'); plain ws:// (profile 1) without it",
    schema: optionalString(),
    example: "certs/server.pem",
  },
  OCPP_TLS_KEY: {
    flag: "--tls-key <file>",
    help: "the server certificate's private key",
    schema: optionalString(),
    example: "certs/server-key.pem",
    secret: "file",
  },
  OCPP_CLIENT_CA: {
    flag: "--client-ca <file>",
    help: "CA of the chargers' client certificates (profile 3)",
    schema: optionalString(),
    defaultText: "EVNET_CA_FILE",
    example: "certs/ca.pem",
  },
  OCPP_ALLOW_PLAIN: {
    flag: "--allow-plain",
    help: "serve plain ws:// on an address other than loopback, which sends chargers' passwords in the clear",
    schema: bool(false),
  },
  OCPP_INSTANCE_ID: {
    flag: "--instance <name>",
    help: "this gateway's name when several run side by side",
    schema: optionalString(),
    defaultText: "host-pid",
    example: "gateway-1",
  },
  API_URL: { ...apiUrlSetting, help: "Central's API, which issues the chargers' channel keys", schema: v.pipe(v.string("is required"), url()) },
  EVNET_CA_FILE: { ...caFileSetting, help: "CA certificate that signed the API's (the ca.pem of 'evnet certs')" },
  OCPP_HEARTBEAT_INTERVAL: { help: "seconds between a charger's Heartbeats (told to it at boot)", schema: seconds(60) },
  OCPP_PING_INTERVAL: { help: "seconds between WebSocket pings; a charger that does not answer is dropped within two of them", schema: seconds(20) },
  OCPP_CENTRAL_HEARTBEAT_INTERVAL: { help: "seconds between the heartbeats the gateway sends Central for each connected charger", schema: seconds(15) },
  OCPP_CALL_TIMEOUT: { help: "seconds the gateway waits for a charger's answer to a call", schema: seconds(30) },
  OCPP_PASSWORD_CHECKS: {
    help: "password checks (the slow scrypt hash) run at once; 0: one per core. A charger whose password this gateway verified before is recognised without it when it connects again",
    schema: integer(0),
  },
  OCPP_HANDSHAKE_WAIT: {
    help: "seconds a handshake may wait for its password check (a reconnection storm); past that it is answered 503 at once and the charger tries again later",
    schema: seconds(10),
  },
  ...databaseSettings,
  ...busSettings,
  EVNET_GATEWAY_TOKEN: { ...gatewayTokenSetting, help: "proves to the API that this is an OCPP gateway (the API's EVNET_GATEWAY_TOKEN)" },
  ...logSettings,
});

export const gatewayConfigSchema = schemaOf(gatewaySettings);
export type GatewayConfig = ConfigOf<typeof gatewaySettings>;

export function loadGatewayConfig(flags: FlagValues<typeof gatewaySettings> = {}): GatewayConfig {
  return checkGatewayConfig(loadSettings(gatewaySettings, flags));
}

export function checkGatewayConfig(config: GatewayConfig): GatewayConfig {
  checkTlsPair(config, "OCPP_TLS_CERT", "OCPP_TLS_KEY");
  if (!config.OCPP_TLS_CERT && !config.OCPP_ALLOW_PLAIN && config.OCPP_HOST !== "localhost" && !isLoopback(config.OCPP_HOST))
    throw new ConfigError(`OCPP_HOST: plain ws:// (security profile 1) on ${config.OCPP_HOST} (--host) would send chargers' passwords unencrypted`, {
      hint: `listen on loopback, give ${settingLabel("OCPP_TLS_CERT")} and ${settingLabel("OCPP_TLS_KEY")}, or ${settingLabel("OCPP_ALLOW_PLAIN")} on a network you trust`,
    });
  return config;
}
