/**
 * `evnet up`: the whole network in one process. One database (embedded PGlite unless
 * DATABASE_URL) and one bus (in-process unless KAFKA_BROKERS) shared by the Registry, the API
 * and dashboard, Central, the weather office on its offline provider, simulated charging
 * points (an engine and a monitor each, registering and authenticating like real ones) and
 * simulated drivers. Each role logs under its own name.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Bus } from "../../bus/bus.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { loadConfig } from "../../config/env.ts";
import { type Database, openDatabase } from "../../db/client.ts";
import { lockDataFolder } from "../../db/data-folder.ts";
import { migrate } from "../../db/migrate.ts";
import { createLogger } from "../../lib/log.ts";
import { apiConfigSchema } from "../api/config.ts";
import { centralConfigSchema } from "../central/config.ts";
import { engineConfigSchema } from "../cp-engine/config.ts";
import { monitorConfigSchema } from "../cp-monitor/config.ts";
import { driverConfigSchema } from "../driver/config.ts";
import { checkGatewayConfig, gatewayConfigSchema } from "../ocpp/config.ts";
import { chargerConfigSchema } from "../ocpp-charger/config.ts";
import { registryConfigSchema } from "../registry/config.ts";
import type { Shared } from "../shared.ts";
import { weatherConfigSchema } from "../weather/config.ts";
import type { UpConfig } from "./config.ts";
import { driveForever, logReporter, type SimulatedCp, simulatedCps, simulatedDriverIds, simulatedOcppChargers } from "./fleet.ts";
import { kafkaTransportOf, type UpSummary, writeJoinFile } from "./join.ts";
import { ensureUpSecrets } from "./secrets.ts";

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export interface RunningNetwork extends UpSummary {
  stop(): Promise<void>;
}

export async function start(config: UpConfig): Promise<RunningNetwork> {
  const log = createLogger("up");
  const started: Stoppable[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        log.error("error while stopping", { role: part.name, err });
      }
    }
  };
  // One network per data folder: its database, secrets and CP keys are this network's.
  const unlock = lockDataFolder(config.EVNET_DATA_DIR, "up");
  started.push({ name: "data folder lock", stop: async () => unlock() });
  try {
    return await startNetwork(config, started, stopAll);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startNetwork(config: UpConfig, started: Stoppable[], stopAll: () => Promise<void>): Promise<RunningNetwork> {
  const log = createLogger("up");
  const dataDir = config.EVNET_DATA_DIR;
  const secrets = await ensureUpSecrets(dataDir, {
    operatorToken: config.EVNET_OPERATOR_TOKEN,
    serviceToken: config.EVNET_SERVICE_TOKEN,
    enrollmentToken: config.EVNET_ENROLLMENT_TOKEN,
    masterKey: config.EVNET_MASTER_KEY,
  });
  log.info("starting the network", { data_dir: dataDir, cps: config.UP_CPS, drivers: config.UP_DRIVERS, secrets: secrets.file });

  const database: Database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir,
    maxConnections: config.DATABASE_POOL_SIZE,
    applicationName: "evnet up",
    connectNow: true,
    waitS: config.DATABASE_START_WAIT_S,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    onWait: (problem) => log.warn(`${problem.message}; trying again every second`),
  });
  started.push({ name: "database", stop: () => database.close() });
  await migrate(database.db);
  log.info("database ready", { kind: database.kind, at: database.location });
  const bus: Bus = await openBus(busOptionsFrom(config, "evnet-up"));
  started.push({ name: "bus", stop: () => bus.close() });
  log.info("bus ready", { kind: bus.kind });
  const shared = (role: string): Shared => ({ database, bus, log: createLogger(role) });

  const tls = config.API_TLS_CERT && config.API_TLS_KEY;
  const common = {
    DATABASE_URL: config.DATABASE_URL,
    KAFKA_BROKERS: config.KAFKA_BROKERS?.join(","),
    EVNET_TOPIC_PREFIX: config.EVNET_TOPIC_PREFIX,
    EVNET_DATA_DIR: dataDir,
    EVNET_MASTER_KEY: secrets.masterKey,
    EVNET_OPERATOR_TOKEN: secrets.operatorToken,
    EVNET_SERVICE_TOKEN: secrets.serviceToken,
    EVNET_ENROLLMENT_TOKEN: secrets.enrollmentToken,
    EVNET_GATEWAY_TOKEN: secrets.gatewayToken,
    EVNET_CA_FILE: config.EVNET_CA_FILE,
    EVNET_CONTROL_SIGNING_KEY: secrets.controlKeyFile,
    EVNET_CONTROL_PUBLIC_KEY: secrets.controlPublicKeyFile,
  };

  const registry = await import("../registry/index.ts");
  const registryRole = await registry.start(
    loadConfig(
      registryConfigSchema,
      {},
      {
        ...common,
        REGISTRY_HOST: "127.0.0.1",
        REGISTRY_PORT: "0",
        REGISTRY_INSECURE_HTTP: tls ? "false" : "true",
        REGISTRY_TLS_CERT: config.API_TLS_CERT,
        REGISTRY_TLS_KEY: config.API_TLS_KEY,
        REGISTRY_SIGNING_KEY: secrets.signingKeyFile,
      },
    ),
    shared("registry"),
  );
  started.push({ name: "registry", stop: () => registryRole.stop() });

  const api = await import("../api/index.ts");
  const apiRole = await api.start(
    loadConfig(
      apiConfigSchema,
      {},
      {
        ...common,
        API_HOST: config.API_HOST,
        API_PORT: String(config.API_PORT),
        API_TLS_CERT: config.API_TLS_CERT,
        API_TLS_KEY: config.API_TLS_KEY,
        REGISTRY_URL: registryRole.url,
        REGISTRY_PUBLIC_KEY: secrets.publicKeyFile,
      },
    ),
    shared("api"),
  );
  started.push({ name: "api", stop: () => apiRole.stop() });
  // Roles inside this process reach the API on loopback even when it listens on all interfaces.
  const apiUrl = apiRole.url.replace(/\/\/(0\.0\.0\.0|\[::\])/, "//127.0.0.1");

  const central = await import("../central/index.ts");
  const centralRole = await central.start(loadConfig(centralConfigSchema, {}, { ...common, CENTRAL_INSTANCE_ID: "central-up" }), shared("central"));
  started.push({ name: "central", stop: () => centralRole.stop() });

  const weather = await import("../weather/index.ts");
  const weatherRole = await weather.start(loadConfig(weatherConfigSchema, {}, { ...common, API_URL: apiUrl }), {
    log: createLogger("weather"),
    interactive: false,
  });
  started.push({ name: "weather", stop: () => weatherRole.stop() });

  const cps = simulatedCps(config.UP_CPS);
  const engine = await import("../cp-engine/index.ts");
  const monitor = await import("../cp-monitor/index.ts");
  for (const cp of cps) {
    const engineRole = await engine.start(loadConfig(engineConfigSchema, {}, { ...common, CP_ID: cp.cpId, ENGINE_PORT: "0" }), shared(`engine ${cp.cpId}`));
    started.push({ name: `engine ${cp.cpId}`, stop: () => engineRole.stop() });
    const monitorRole = await monitor.start(
      loadConfig(
        monitorConfigSchema,
        {},
        {
          ...common,
          CP_ID: cp.cpId,
          CP_LOCATION: cp.location,
          CP_PRICE_PER_KWH: String(cp.pricePerKwh),
          ENGINE_ADDRESS: `127.0.0.1:${engineRole.port}`,
          REGISTRY_URL: registryRole.url,
          API_URL: apiUrl,
          EVNET_DATA_DIR: join(dataDir, "cps"),
        },
      ),
      { register: true, authenticate: true },
      shared(`monitor ${cp.cpId}`),
    );
    started.push({ name: `monitor ${cp.cpId}`, stop: () => monitorRole.stop() });
  }

  const ocppChargers = await startOcpp(config, common, apiUrl, shared, started, database);
  cps.push(...ocppChargers);

  const driversStop = new AbortController();
  const driver = await import("../driver/index.ts");
  const runs: Promise<void>[] = [];
  for (const [i, driverId] of simulatedDriverIds(cps.length ? config.UP_DRIVERS : 0).entries()) {
    // Each simulated driver registers (enrollment token) and authenticates like a real one.
    const driverConfig = loadConfig(driverConfigSchema, {}, { ...common, DRIVER_ID: driverId, API_URL: apiUrl, EVNET_DATA_DIR: join(dataDir, "drivers") });
    const driverLog = createLogger(`driver ${driverId}`);
    const driverRole = await driver.start(driverConfig, { database, bus, log: driverLog });
    started.push({ name: `driver ${driverId}`, stop: () => driverRole.stop() });
    const settings = {
      ...driver.chargeSettings(driverConfig),
      chargeSeconds: config.UP_CHARGE_SECONDS,
      pauseSeconds: config.UP_PAUSE_SECONDS,
    };
    runs.push(
      driveForever(
        driverRole.client,
        cps,
        i * Math.max(1, Math.floor(cps.length / Math.max(1, config.UP_DRIVERS))),
        settings,
        logReporter(driverLog),
        driversStop.signal,
      ),
    );
  }
  // Drivers stop first, before the roles they talk to.
  started.push({
    name: "drivers",
    stop: async () => {
      driversStop.abort();
      await Promise.allSettled(runs);
    },
  });

  const everywhere = apiUrl !== apiRole.url;
  const joinSettings = {
    apiUrl,
    registryUrl: registryRole.url,
    brokers: config.KAFKA_BROKERS,
    topicPrefix: config.EVNET_TOPIC_PREFIX,
    caFile: config.EVNET_CA_FILE,
    enrollmentToken: secrets.enrollmentToken,
    kafkaTransport: kafkaTransportOf(config),
    kafkaLogin: Boolean(config.KAFKA_SASL_MECHANISM),
  };
  const joinFile = writeJoinFile(dataDir, joinSettings);
  if (joinFile) started.push({ name: "join file", stop: async () => rmSync(joinFile, { force: true }) }); // it describes a running network
  log.info("network up", {
    dashboard: `${apiUrl}/`,
    listening_on: everywhere ? "every interface" : config.API_HOST,
    cps: cps.length,
    ocpp_chargers: ocppChargers.length,
    drivers: runs.length,
  });
  return {
    dashboardUrl: `${apiUrl}/`,
    everywhere,
    dataDir,
    cps: config.UP_CPS,
    join: joinSettings,
    joinFile,
    operatorToken: secrets.operatorToken,
    stop: stopAll,
  };
}

/**
 * With --ocpp-cps: an OCPP gateway on loopback (security profile 1) and simulated OCPP chargers,
 * registered as an operator would, connecting to it. Returns them for the drivers' rounds.
 */
async function startOcpp(
  config: UpConfig,
  common: Record<string, string | undefined>,
  apiUrl: string,
  shared: (role: string) => Shared,
  started: Stoppable[],
  database: Database,
): Promise<SimulatedCp[]> {
  if (config.UP_OCPP_CPS === 0) return [];
  const chargers = simulatedOcppChargers(config.UP_OCPP_CPS);
  const { registerOcppCharger } = await import("../../identity/ocpp-chargers.ts");
  const { createAuditor } = await import("../../audit/audit.ts");
  const auditor = createAuditor(database.db, createLogger("up"));
  const passwords = new Map<string, string>();
  for (const c of chargers) {
    const done = await registerOcppCharger(
      { db: database.db, auditor, defaultPricePerKwh: c.pricePerKwh },
      { cpId: c.cpId, location: c.location, pricePerKwh: c.pricePerKwh, securityProfile: 1 },
      { actorId: "up" },
    );
    passwords.set(c.cpId, done.password);
  }
  const gateway = await import("../ocpp/index.ts");
  const gatewayRole = await gateway.start(
    checkGatewayConfig(
      loadConfig(
        gatewayConfigSchema,
        {},
        { ...common, API_URL: apiUrl, OCPP_HOST: "127.0.0.1", OCPP_PORT: String(config.UP_OCPP_PORT), OCPP_INSTANCE_ID: "ocpp-up" },
      ),
    ),
    shared("ocpp"),
  );
  started.push({ name: "ocpp", stop: () => gatewayRole.stop() });
  const simulator = await import("../ocpp-charger/index.ts");
  for (const c of chargers) {
    const chargerRole = await simulator.start(
      loadConfig(
        chargerConfigSchema,
        {},
        { OCPP_CHARGER_ID: c.cpId, OCPP_URL: gatewayRole.url, OCPP_VERSION: c.version, OCPP_PASSWORD: passwords.get(c.cpId), OCPP_METER_INTERVAL: "2" },
      ),
      createLogger(`ocpp-charger ${c.cpId}`),
    );
    started.push({ name: `ocpp-charger ${c.cpId}`, stop: () => chargerRole.stop() });
  }
  return chargers;
}
