import type { CAC } from "cac";

interface MonitorFlags {
  id?: string;
  location?: string;
  price?: string;
  engine?: string;
  register?: boolean;
  authenticate?: boolean;
  deregister?: boolean;
  details?: boolean;
  heartbeatInterval?: string;
  registryUrl?: string;
  apiUrl?: string;
  caFile?: string;
  dataDir?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
  menu?: boolean;
}

export function register(cli: CAC): void {
  cli
    .command("cp-monitor", "Run a charging point's monitor (registers, authenticates, supervises its engine)")
    .option("--id <cp>", "charging point id (env CP_ID)")
    .option("--location <city>", "the CP's city, to register it (env CP_LOCATION)")
    .option("--price <eur>", "price per kWh asked at registration (env CP_PRICE_PER_KWH)")
    .option("--engine <host:port>", "where its engine listens (env ENGINE_ADDRESS, default 127.0.0.1:50032)")
    .option("--register", "register with the Registry if needed (no credential, new location, expiring)")
    .option("--authenticate", "authenticate with Central at start (a fresh channel key)")
    .option("--deregister", "deregister the CP at the Registry and exit")
    .option("--details", "print the connection details and exit")
    .option("--heartbeat-interval <s>", "seconds between heartbeats to Central (env MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL, default 5)")
    .option("--registry-url <url>", "Registry URL (env REGISTRY_URL)")
    .option("--api-url <url>", "Central API URL (env API_URL)")
    .option("--ca-file <pem>", "CA to trust (env EVNET_CA_FILE)")
    .option("--data-dir <dir>", "where the CP's credential and key are kept (env EVNET_DATA_DIR)")
    .option("--kafka-brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX)")
    .option("--no-menu", "no interactive menu even on a terminal")
    .example("evnet cp-monitor --id CP_001 --location Madrid --engine 127.0.0.1:50032 --register --authenticate")
    .action(async (flags: MonitorFlags) => {
      const { loadMonitorConfig } = await import("../../roles/cp-monitor/config.ts");
      const config = loadMonitorConfig({
        CP_ID: flags.id,
        CP_LOCATION: flags.location,
        CP_PRICE_PER_KWH: flags.price,
        ENGINE_ADDRESS: flags.engine,
        MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: flags.heartbeatInterval,
        REGISTRY_URL: flags.registryUrl,
        API_URL: flags.apiUrl,
        EVNET_CA_FILE: flags.caFile,
        EVNET_DATA_DIR: flags.dataDir,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
      });
      const { createLogger } = await import("../../lib/log.ts");
      const log = createLogger(`cp-monitor ${config.CP_ID}`);
      if (flags.deregister || flags.details) {
        const { oneShot } = await import("../../roles/cp-monitor/one-shot.ts");
        await oneShot(config, flags.deregister ? "deregister" : "details", log);
        return;
      }
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const withMenu = flags.menu !== false && interactive();
      const logs = withMenu ? new LogCapture() : undefined;
      await runRole("cp-monitor", async () => {
        const { start } = await import("../../roles/cp-monitor/index.ts");
        const running = await start(config, { register: Boolean(flags.register), authenticate: Boolean(flags.authenticate), allowNoKey: withMenu }, { log });
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { monitorMenu } = await import("../../roles/cp-monitor/menu.ts");
          done = monitorMenu(running, config, log, logs, abort.signal);
        }
        return {
          done,
          async stop() {
            abort.abort();
            await running.stop();
          },
        };
      });
    });
}
