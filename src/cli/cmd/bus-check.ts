import type { CAC } from "cac";
import { busSettings, logSettings, requireBrokers } from "../../config/common.ts";
import { defineSettings } from "../../config/settings.ts";
import { defineCommand } from "../command.ts";

const busCheckSettings = defineSettings({ ...busSettings, ...logSettings });

/**
 * `evnet bus-check`: an operator's connectivity test. Publishes one message to
 * `<prefix>.bus-check` and consumes it back through a throw-away consumer group, then reports
 * how long the round trip took. Exits 69 (EX_UNAVAILABLE) when Kafka cannot be reached.
 */
export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "bus-check",
      description: "Check the Kafka connection: publish one message, read it back, report the round-trip time",
      settings: busCheckSettings,
      switches: { timeout: { flag: "--timeout <seconds>", help: "give up after this long", default: "30" } },
      examples: ["evnet bus-check --kafka-brokers kafka.example.lan:9092"],
    },
    async ({ flags, switches }) => {
      const { loadSettings } = await import("../../config/settings.ts");
      const { UsageError } = await import("../errors.ts");
      const config = requireBrokers(loadSettings(busCheckSettings, flags), "to check it");
      const timeoutMs = Number(switches.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new UsageError(`--timeout must be a positive number of seconds, not ${JSON.stringify(switches.timeout)}`);
      const { checkBus } = await import("../../bus/check.ts");
      const { busOptionsFrom } = await import("../../bus/open.ts");
      const brokers = config.KAFKA_BROKERS;
      const result = await checkBus({ ...busOptionsFrom(config, "evnet-bus-check"), brokers }, config.EVNET_TOPIC_PREFIX, timeoutMs);
      console.log(
        `Kafka at ${brokers.join(",")} works: a message on ${result.topic} came back in ${result.roundTripMs} ms ` +
          `(publish ${result.publishMs} ms; joining the group took ${result.joinMs} ms)`,
      );
    },
  );
}
