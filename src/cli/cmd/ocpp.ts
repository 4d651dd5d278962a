import type { CAC } from "cac";

interface GatewayFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  allowPlain?: boolean;
  instance?: string;
  apiUrl?: string;
  caFile?: string;
  databaseUrl?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
}

export function register(cli: CAC): void {
  cli
    .command("ocpp", "Run the OCPP-J gateway: real chargers (OCPP 1.6J, 2.0.1) join at ws(s)://HOST:PORT/ocpp/<charger id>")
    .option("--host <host>", "address to listen on (env OCPP_HOST, default 127.0.0.1)")
    .option("--port <port>", "port (env OCPP_PORT, default 9000)")
    .option("--tls-cert <file>", "server certificate: wss://, security profiles 2 and 3 (env OCPP_TLS_CERT)")
    .option("--tls-key <file>", "server private key (env OCPP_TLS_KEY)")
    .option("--client-ca <file>", "CA of chargers' client certificates, profile 3 (env OCPP_CLIENT_CA, default EVNET_CA_FILE)")
    .option("--allow-plain", "serve plain ws:// (profile 1) on an address other than loopback (env OCPP_ALLOW_PLAIN)")
    .option("--instance <name>", "this gateway's name (env OCPP_INSTANCE_ID)")
    .option("--api-url <url>", "Central API, which issues the chargers' keys (env API_URL)")
    .option("--ca-file <pem>", "CA to trust for the API (env EVNET_CA_FILE)")
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL)")
    .option("--kafka-brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX)")
    .example("evnet ocpp --host 0.0.0.0 --tls-cert certs/server.pem --tls-key certs/server-key.pem --api-url https://api.example.lan:8000")
    .action(async (flags: GatewayFlags) => {
      const { loadGatewayConfig } = await import("../../roles/ocpp/config.ts");
      const config = loadGatewayConfig({
        OCPP_HOST: flags.host,
        OCPP_PORT: flags.port,
        OCPP_TLS_CERT: flags.tlsCert,
        OCPP_TLS_KEY: flags.tlsKey,
        OCPP_CLIENT_CA: flags.clientCa,
        OCPP_ALLOW_PLAIN: flags.allowPlain ? "true" : undefined,
        OCPP_INSTANCE_ID: flags.instance,
        API_URL: flags.apiUrl,
        EVNET_CA_FILE: flags.caFile,
        DATABASE_URL: flags.databaseUrl,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
      });
      const { runRole } = await import("../run-role.ts");
      const { start } = await import("../../roles/ocpp/index.ts");
      await runRole("ocpp", () => start(config));
    });
}
