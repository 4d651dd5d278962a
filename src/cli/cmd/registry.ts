import type { CAC } from "cac";

interface RegistryFlags {
  host?: string;
  port?: string;
  tlsCert?: string;
  tlsKey?: string;
  signingKey?: string;
  databaseUrl?: string;
  dataDir?: string;
}

export function register(cli: CAC): void {
  cli
    .command("registry", "Run the Registry, the HTTPS service where CPs are registered")
    .option("--host <host>", "address to listen on (env REGISTRY_HOST, default 127.0.0.1)")
    .option("--port <port>", "port (env REGISTRY_PORT, default 7002)")
    .option("--tls-cert <file>", "server certificate (env REGISTRY_TLS_CERT)")
    .option("--tls-key <file>", "server private key (env REGISTRY_TLS_KEY)")
    .option("--signing-key <file>", "credential signing key (env REGISTRY_SIGNING_KEY, default certs/registry-signing-key.pem)")
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL)")
    .option("--data-dir <dir>", "embedded database folder (env EVNET_DATA_DIR)")
    .action(async (flags: RegistryFlags) => {
      const { loadRegistryConfig } = await import("../../roles/registry/config.ts");
      const { runRole } = await import("../run-role.ts");
      const config = loadRegistryConfig({
        REGISTRY_HOST: flags.host,
        REGISTRY_PORT: flags.port,
        REGISTRY_TLS_CERT: flags.tlsCert,
        REGISTRY_TLS_KEY: flags.tlsKey,
        REGISTRY_SIGNING_KEY: flags.signingKey,
        DATABASE_URL: flags.databaseUrl,
        EVNET_DATA_DIR: flags.dataDir,
      });
      const { start } = await import("../../roles/registry/index.ts");
      await runRole("registry", () => start(config));
    });
}
