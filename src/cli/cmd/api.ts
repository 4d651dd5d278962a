import type { CAC } from "cac";

interface ApiFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
  databaseUrl?: string;
  dataDir?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
  registryUrl?: string;
  caFile?: string;
  registryPublicKey?: string;
}

export function register(cli: CAC): void {
  cli
    .command("api", "Run Central's REST API and the web dashboard")
    .option("--host <host>", "address to listen on (env API_HOST, default 127.0.0.1)")
    .option("--port <port>", "port (env API_PORT, default 8000)")
    .option("--tls-cert <file>", "server certificate, to serve HTTPS (env API_TLS_CERT)")
    .option("--tls-key <file>", "server private key (env API_TLS_KEY)")
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL; embedded database without it)")
    .option("--data-dir <dir>", "embedded database folder (env EVNET_DATA_DIR)")
    .option("--kafka-brokers <list>", "host:port[,host:port] (env KAFKA_BROKERS; in-process bus without it)")
    .option("--topic-prefix <prefix>", "topic name prefix (env EVNET_TOPIC_PREFIX, default evnet)")
    .option("--registry-url <url>", "the Registry, for the health report (env REGISTRY_URL)")
    .option("--ca-file <file>", "CA certificate that signed the Registry's (env EVNET_CA_FILE)")
    .option("--registry-public-key <file>", "the Registry's credential public key (env REGISTRY_PUBLIC_KEY, default certs/registry-signing-public.pem)")
    .action(async (flags: ApiFlags) => {
      const { loadApiConfig } = await import("../../roles/api/config.ts");
      const { runRole } = await import("../run-role.ts");
      const config = loadApiConfig({
        API_HOST: flags.host,
        API_PORT: flags.port,
        API_TLS_CERT: flags.tlsCert,
        API_TLS_KEY: flags.tlsKey,
        DATABASE_URL: flags.databaseUrl,
        EVNET_DATA_DIR: flags.dataDir,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
        REGISTRY_URL: flags.registryUrl,
        EVNET_CA_FILE: flags.caFile,
        REGISTRY_PUBLIC_KEY: flags.registryPublicKey,
      });
      const { start } = await import("../../roles/api/index.ts");
      await runRole("api", () => start(config));
    });
}
