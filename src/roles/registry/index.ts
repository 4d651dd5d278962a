/**
 * `evnet registry`: the HTTPS service where charging points are registered and get their signed
 * credential. It refuses to start without its TLS files (unless told to serve plain HTTP on
 * loopback for development), its signing key and the enrollment token.
 */
import { createAuditor } from "../../audit/audit.ts";
import { ConfigError, settingLabel } from "../../config/env.ts";
import { readSettingFile } from "../../config/files.ts";
import { type CredentialSigner, createCredentialSigner, SigningKeyError } from "../../crypto/credentials.ts";
import { migrate } from "../../db/migrate.ts";
import { createBrakes, DEFAULT_BRAKES } from "../../http/brakes.ts";
import { isLoopbackHost } from "../../http/client-address.ts";
import { readTlsFiles, type ServeSettings, serve, type TlsFiles } from "../../http/serve.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { roleDatabase, type Shared } from "../shared.ts";
import { createRegistryApp } from "./app.ts";
import type { RegistryConfig } from "./config.ts";

const SERVE_SETTINGS: ServeSettings = { port: "REGISTRY_PORT", cert: "REGISTRY_TLS_CERT", key: "REGISTRY_TLS_KEY" };

function transport(config: RegistryConfig, log: Logger): TlsFiles | undefined {
  if (config.REGISTRY_INSECURE_HTTP) {
    if (!isLoopbackHost(config.REGISTRY_HOST))
      throw new ConfigError(`REGISTRY_INSECURE_HTTP=true is only allowed on a loopback host, not ${config.REGISTRY_HOST}`, {
        hint: "serve HTTPS with the files 'evnet certs' makes, or listen on 127.0.0.1",
      });
    log.warn("serving PLAIN HTTP on loopback (REGISTRY_INSECURE_HTTP=true): development only");
    return undefined;
  }
  const files = { certFile: config.REGISTRY_TLS_CERT, keyFile: config.REGISTRY_TLS_KEY };
  readTlsFiles(
    files,
    SERVE_SETTINGS,
    "the Registry serves HTTPS only: make the files with 'evnet certs' (or set REGISTRY_INSECURE_HTTP=true for development on loopback)",
  );
  return files;
}

async function loadSigner(file: string): Promise<CredentialSigner> {
  const pem = readSettingFile("REGISTRY_SIGNING_KEY", file);
  try {
    return await createCredentialSigner(pem);
  } catch (err) {
    if (err instanceof SigningKeyError) throw new ConfigError(`${settingLabel("REGISTRY_SIGNING_KEY")}: ${file}: ${err.message}`);
    throw err;
  }
}

export async function start(config: RegistryConfig, shared: Shared = {}) {
  const log = shared.log ?? createLogger("registry");
  const tls = transport(config, log);
  const signer = await loadSigner(config.REGISTRY_SIGNING_KEY);
  const database = await roleDatabase(shared, config, "registry", log);
  try {
    await migrate(database.db);
  } catch (err) {
    if (!shared.database) await database.close();
    throw err;
  }
  log.info("database ready", { kind: database.kind, at: database.location });
  const brakes = createBrakes(createAuditor(database.db, log), log, { ...DEFAULT_BRAKES, failuresPerWindow: config.EVNET_AUTH_FAILURES_PER_MINUTE });
  const app = createRegistryApp({ db: database.db, auditor: brakes.auditor, brakes, log, config, signer, startedAt: new Date() });
  const server = serve(app, { hostname: config.REGISTRY_HOST, port: config.REGISTRY_PORT, tls, settings: SERVE_SETTINGS });
  log.info("listening", { url: server.url });
  return {
    url: server.url,
    port: server.port,
    async stop() {
      await server.stop();
      await brakes.stop();
      if (!shared.database) await database.close();
    },
  };
}
