import type { CAC } from "cac";

interface BusCheckFlags {
  brokers?: string;
  topicPrefix?: string;
  timeout: string | number;
}

/**
 * `evnet bus-check`: an operator's connectivity test. Publishes one message to
 * `<prefix>.bus-check` and consumes it back through a throw-away consumer group, then reports
 * how long the round trip took. Exits non-zero (69) when Kafka cannot be reached.
 */
export function register(cli: CAC): void {
  cli
    .command("bus-check", "Check the Kafka connection: publish one message, read it back, report the round-trip time")
    .option("--brokers <list>", "Kafka brokers host:port,... (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "topic prefix (env EVNET_TOPIC_PREFIX, default evnet)")
    .option("--timeout <seconds>", "give up after this long", { default: 30 })
    .action(async (flags: BusCheckFlags) => {
      const v = await import("valibot");
      const { loadConfig } = await import("../../config/env.ts");
      const { busEntries } = await import("../../config/common.ts");
      const { AppError } = await import("../../lib/errors.ts");
      const config = loadConfig(v.object(busEntries), { KAFKA_BROKERS: flags.brokers, EVNET_TOPIC_PREFIX: flags.topicPrefix });
      if (!config.KAFKA_BROKERS) throw new AppError("bad_request", "bus-check needs Kafka: set KAFKA_BROKERS or pass --brokers host:port");
      const timeoutMs = Number(flags.timeout) * 1000;
      if (!(timeoutMs > 0)) throw new AppError("bad_request", "--timeout must be a positive number of seconds");
      const { checkBus } = await import("../../bus/check.ts");
      const { busOptionsFrom } = await import("../../bus/open.ts");
      const result = await checkBus({ ...busOptionsFrom(config, "evnet-bus-check"), brokers: config.KAFKA_BROKERS }, config.EVNET_TOPIC_PREFIX, timeoutMs);
      console.log(
        `Kafka at ${config.KAFKA_BROKERS.join(",")} works: a message on ${result.topic} came back in ${result.roundTripMs} ms ` +
          `(publish ${result.publishMs} ms; joining the group took ${result.joinMs} ms)`,
      );
    });
}
