import type { CAC } from "cac";

interface EngineFlags {
  id?: string;
  port?: string;
  host?: string;
  powerKw?: string;
  maxDuration?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
  menu?: boolean;
}

export function register(cli: CAC): void {
  cli
    .command("cp-engine", "Run a charging point's energy engine (supplies, streams telemetry, answers its monitor)")
    .option("--id <cp>", "charging point id (env CP_ID)")
    .option("--port <port>", "local port for the monitor (env ENGINE_PORT, default 50032)")
    .option("--host <host>", "address to listen on (env ENGINE_HOST, default 127.0.0.1)")
    .option("--power-kw <kw>", "simulated power in kW (env CP_POWER_KW, default 22)")
    .option("--max-duration <s>", "maximum charging duration in seconds (env MAX_CHARGING_DURATION, default 3000)")
    .option("--kafka-brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX)")
    .option("--no-menu", "no interactive menu even on a terminal")
    .example("evnet cp-engine --id CP_001 --port 50032 --power-kw 22")
    .action(async (flags: EngineFlags) => {
      const { loadEngineConfig } = await import("../../roles/cp-engine/config.ts");
      const config = loadEngineConfig({
        CP_ID: flags.id,
        ENGINE_PORT: flags.port,
        ENGINE_HOST: flags.host,
        CP_POWER_KW: flags.powerKw,
        MAX_CHARGING_DURATION: flags.maxDuration,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
      });
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const withMenu = flags.menu !== false && interactive();
      const logs = withMenu ? new LogCapture() : undefined;
      await runRole("cp-engine", async () => {
        const { start, simulateWithSignals } = await import("../../roles/cp-engine/index.ts");
        const running = await start(config);
        const unhook = simulateWithSignals(running.engine);
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { engineMenu } = await import("../../roles/cp-engine/menu.ts");
          done = engineMenu(running.engine, config.MAX_CHARGING_DURATION, logs, abort.signal);
        }
        return {
          done,
          async stop() {
            abort.abort();
            unhook();
            await running.stop();
          },
        };
      });
    });
}
