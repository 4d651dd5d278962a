import type { CAC } from "cac";

interface DriverFlags {
  id?: string;
  file?: string;
  cp?: string;
  list?: boolean;
  history?: boolean;
  chargeSeconds?: string;
  pauseSeconds?: string;
  json?: boolean;
  apiUrl?: string;
  caFile?: string;
  kafkaBrokers?: string;
  topicPrefix?: string;
  menu?: boolean;
}

export function register(cli: CAC): void {
  cli
    .command("driver", "Run a driver's app (request, stop, status, history, auto mode from a file)")
    .option("--id <driver>", "driver id (env DRIVER_ID)")
    .option("--file <path>", "auto mode: charge at each CP listed in the file, in turn, then exit")
    .option("--cp <cp>", "charge once at this CP, then exit")
    .option("--list", "list the available charging points and exit (needs the API)")
    .option("--history", "show the driver's charging history and exit (needs the API)")
    .option("--charge-seconds <s>", "stop each charge after this many seconds (env DRIVER_CHARGE_SECONDS; default: until it ends by itself)")
    .option("--pause-seconds <s>", "auto mode: pause between CPs (env DRIVER_PAUSE_SECONDS, default 4)")
    .option("--json", "print tickets and refusals as JSON lines on stdout (logs and progress on stderr)")
    .option("--api-url <url>", "Central's API (env API_URL)")
    .option("--ca-file <pem>", "CA to trust for the API (env EVNET_CA_FILE)")
    .option("--kafka-brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX)")
    .option("--no-menu", "no interactive menu even on a terminal")
    .example("evnet driver --id D1 --file cps.txt --charge-seconds 10 --json")
    .action(async (flags: DriverFlags) => {
      const { loadDriverConfig } = await import("../../roles/driver/config.ts");
      const config = loadDriverConfig({
        DRIVER_ID: flags.id,
        DRIVER_CHARGE_SECONDS: flags.chargeSeconds,
        DRIVER_PAUSE_SECONDS: flags.pauseSeconds,
        API_URL: flags.apiUrl,
        EVNET_CA_FILE: flags.caFile,
        KAFKA_BROKERS: flags.kafkaBrokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
      });
      const { runDriver } = await import("../../roles/driver/run.ts");
      await runDriver(config, flags);
    });
}
