/**
 * `evnet registry`: the HTTPS service where charging points are registered and get their signed
 * credential. It refuses to start without its TLS files (unless told to serve plain HTTP on
 * loopback for development), its signing key and the enrollment token.
 */
import { existsSync, readFileSync } from "node:fs";
import { createAuditor } from "../../audit/audit.ts";
import { ConfigError } from "../../config/env.ts";
import { type CredentialSigner, createCredentialSigner, SigningKeyError } from "../../crypto/credentials.ts";
import { type Database, openDatabase } from "../../db/client.ts";
import { migrate } from "../../db/migrate.ts";
import { isLoopback } from "../../http/client-address.ts";
import { serve, type TlsFiles } from "../../http/serve.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { createRegistryApp } from "./app.ts";
import type { RegistryConfig } from "./config.ts";

export interface Shared {
  database?: Database;
  log?: Logger;
}

function transport(config: RegistryConfig, log: Logger): TlsFiles | undefined {
  if (config.REGISTRY_INSECURE_HTTP) {
    if (!isLoopback(config.REGISTRY_HOST) && config.REGISTRY_HOST !== "localhost")
      throw new ConfigError(`REGISTRY_INSECURE_HTTP=true is only allowed on a loopback host, not ${config.REGISTRY_HOST}`);
    log.warn("serving PLAIN HTTP on loopback (REGISTRY_INSECURE_HTTP=true): development only");
    return undefined;
  }
  for (const [name, file] of [
    ["REGISTRY_TLS_CERT", config.REGISTRY_TLS_CERT],
    ["REGISTRY_TLS_KEY", config.REGISTRY_TLS_KEY],
  ] as const)
    if (!existsSync(file))
      throw new ConfigError(
        `${name}: ${file} does not exist. The Registry serves HTTPS only: make the files with 'evnet certs' (or set REGISTRY_INSECURE_HTTP=true for development on loopback)`,
      );
  return { certFile: config.REGISTRY_TLS_CERT, keyFile: config.REGISTRY_TLS_KEY };
}

async function loadSigner(file: string): Promise<CredentialSigner> {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`REGISTRY_SIGNING_KEY: cannot read ${file} (make it with 'evnet certs')`);
  }
  try {
    return await createCredentialSigner(pem);
  } catch (err) {
    if (err instanceof SigningKeyError) throw new ConfigError(`REGISTRY_SIGNING_KEY: ${file}: ${err.message}`);
    throw err;
  }
}

export async function start(config: RegistryConfig, shared: Shared = {}) {
  const log = shared.log ?? createLogger("registry");
  const tls = transport(config, log);
  const signer = await loadSigner(config.REGISTRY_SIGNING_KEY);
  log.info("opening database");
  const database =
    shared.database ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.EVNET_DATA_DIR,
      maxConnections: config.DATABASE_POOL_SIZE,
      applicationName: "evnet registry",
    }));
  try {
    await migrate(database.db);
  } catch (err) {
    if (!shared.database) await database.close();
    throw err;
  }
  log.info("database ready", { kind: database.kind, at: database.location });
  const app = createRegistryApp({ db: database.db, auditor: createAuditor(database.db, log), log, config, signer, startedAt: new Date() });
  const server = serve(app, { hostname: config.REGISTRY_HOST, port: config.REGISTRY_PORT, tls });
  log.info("listening", { url: server.url });
  return {
    url: server.url,
    port: server.port,
    async stop() {
      await server.stop();
      if (!shared.database) await database.close();
    },
  };
}
