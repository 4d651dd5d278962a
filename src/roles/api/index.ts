/**
 * `evnet api`: Central's REST API (and, later, the dashboard). Owns the database schema, so it
 * applies migrations at start.
 */
import { createAuditor } from "../../audit/audit.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { allTopics, topicsFor } from "../../bus/topics.ts";
import { loadControlSigner, loadOptionalControlVerifier } from "../../certs/control-keys.ts";
import { migrate } from "../../db/migrate.ts";
import { createBrakes, DEFAULT_BRAKES } from "../../http/brakes.ts";
import { readTlsFiles, type ServeSettings, serve } from "../../http/serve.ts";
import { createLogger } from "../../lib/log.ts";
import { groupName } from "../group-names.ts";
import { roleDatabase, type Shared } from "../shared.ts";
import { createApiApp } from "./app.ts";
import type { ApiConfig } from "./config.ts";
import type { ApiContext } from "./context.ts";
import { loadCredentialVerifier } from "./credential-verifier.ts";
import { attachLiveFigures, followLiveFigures, LiveFigures } from "./live/figures.ts";
import { stopLiveUpdates } from "./live/for-context.ts";
import { apiProbes } from "./routes/operations.ts";

const SERVE_SETTINGS: ServeSettings = { port: "API_PORT", cert: "API_TLS_CERT", key: "API_TLS_KEY" };

export async function start(config: ApiConfig, shared: Shared = {}) {
  const log = shared.log ?? createLogger("api");
  const tls = config.API_TLS_CERT && config.API_TLS_KEY ? { certFile: config.API_TLS_CERT, keyFile: config.API_TLS_KEY } : undefined;
  if (tls) readTlsFiles(tls, SERVE_SETTINGS); // before the database: a wrong path is the first thing to hear about
  const credentialVerifier = await loadCredentialVerifier(config, log);
  const controlSigner = loadControlSigner(config.EVNET_CONTROL_SIGNING_KEY, "api", log);
  const liveVerifier = loadOptionalControlVerifier(config.EVNET_CONTROL_PUBLIC_KEY, "sessions show what their rows hold", log);
  const database = await roleDatabase(shared, config, "api", log);
  await migrate(database.db);
  log.info("database ready", { kind: database.kind, at: database.location });
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, "evnet-api")));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  // It publishes control messages, so the topics must exist; but its reads need no bus, so a
  // broker that is down at start is only a warning (Central creates the topics too).
  await bus.ensureTopics(allTopics(topics)).catch((err) => log.warn("could not create the bus topics", { err }));
  const brakes = createBrakes(createAuditor(database.db, log), log, { ...DEFAULT_BRAKES, failuresPerWindow: config.EVNET_AUTH_FAILURES_PER_MINUTE });
  const ctx: ApiContext = {
    db: database.db,
    bus,
    topics,
    auditor: brakes.auditor,
    brakes,
    log,
    config,
    startedAt: new Date(),
    credentialVerifier,
    controlSigner,
    live: liveVerifier && new LiveFigures(),
  };
  if (ctx.live) attachLiveFigures(database.db, ctx.live);
  const following =
    liveVerifier &&
    ctx.live &&
    followLiveFigures({
      bus,
      topics,
      groupPrefix: groupName(config.EVNET_TOPIC_PREFIX, "api-live"),
      verifier: liveVerifier,
      store: ctx.live,
      auditor: ctx.auditor,
      log,
    });
  const probes = apiProbes(ctx);
  const app = createApiApp(ctx, probes);
  const server = serve(app, { hostname: config.API_HOST, port: config.API_PORT, tls, settings: SERVE_SETTINGS });
  log.info("listening", { url: server.url });
  return {
    url: server.url,
    async stop() {
      probes.drain(); // load balancers see /readyz fail while the last requests finish
      stopLiveUpdates(ctx); // no more polling of a database about to close
      await server.stop();
      await following?.close();
      await brakes.stop();
      if (!shared.bus) await bus.close();
      if (!shared.database) await database.close();
    },
  };
}
