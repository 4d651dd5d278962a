import type { CAC } from "cac";

interface CentralFlags {
  databaseUrl?: string;
  dataDir?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
  group?: string;
  instance?: string;
  heartbeatInterval?: string;
  json?: boolean;
  menu?: boolean;
}

export function register(cli: CAC): void {
  cli
    .command(
      "central [operation] [...args]",
      "Run Central, the control core; or one admin operation: cps [all|available|active], cp <id>, sessions [n], session <id>, stop <id|all>, resume <id|all>, revoke <id>, register-ocpp <id> <location> [profile] [price], stats",
    )
    .option("--database-url <url>", "PostgreSQL URL (env DATABASE_URL; else the embedded database)")
    .option("--data-dir <dir>", "embedded database folder (env EVNET_DATA_DIR)")
    .option("--kafka-brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX)")
    .option("--group <id>", "consumer group shared by Central instances (env EVNET_CENTRAL_GROUP)")
    .option("--instance <name>", "this instance's name (env CENTRAL_INSTANCE_ID)")
    .option("--heartbeat-interval <s>", "heartbeat interval assumed for CPs that announce none (env MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL)")
    .option("--json", "operations: print JSON")
    .option("--no-menu", "no interactive menu even on a terminal")
    .example("evnet central")
    .example("evnet central stop CP_001")
    .example("evnet central cps available --json")
    .action(async (operation: string | undefined, args: string[], flags: CentralFlags) => {
      const common = {
        DATABASE_URL: flags.databaseUrl,
        EVNET_DATA_DIR: flags.dataDir,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
      };
      if (operation) {
        const { loadOperationConfig, runOperation } = await import("../../roles/central/operations.ts");
        await runOperation(operation, args, loadOperationConfig(common), Boolean(flags.json));
        return;
      }
      const { loadCentralConfig } = await import("../../roles/central/config.ts");
      const config = loadCentralConfig({
        ...common,
        EVNET_CENTRAL_GROUP: flags.group,
        CENTRAL_INSTANCE_ID: flags.instance,
        MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL: flags.heartbeatInterval,
      });
      const { runRole } = await import("../run-role.ts");
      const { interactive, LogCapture } = await import("../menu.ts");
      const logs = flags.menu !== false && interactive() ? new LogCapture() : undefined;
      await runRole("central", async () => {
        const { start } = await import("../../roles/central/index.ts");
        const running = await start(config);
        const abort = new AbortController();
        let done: Promise<void> | undefined;
        if (logs) {
          const { centralMenu } = await import("../../roles/central/menu.ts");
          const { createAuditor } = await import("../../audit/audit.ts");
          const { ctx } = running;
          done = centralMenu(
            { db: ctx.db, bus: ctx.bus, topics: ctx.topics, auditor: createAuditor(ctx.db, ctx.log) },
            ctx.settings.instance,
            logs,
            abort.signal,
          );
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
