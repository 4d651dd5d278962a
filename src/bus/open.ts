/** Opens the bus a role is configured for: Kafka when brokers are given, else in-process. */
import { createLogger, type Logger } from "../lib/log.ts";
import type { Bus } from "./bus.ts";
import { checkKafkaTransport, type KafkaSecurity, type KafkaSecurityConfig, kafkaSecurityFrom } from "./kafka-security.ts";
import { MemoryBus } from "./memory.ts";

export interface BusOptions {
  brokers?: string[];
  clientId: string;
  /** Kafka only: partitions of topics created by ensureTopics, and group membership timing. */
  partitions?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Kafka only: TLS and SASL (none: plaintext, which only a broker on this machine gets unasked). */
  security?: KafkaSecurity;
  log?: Logger;
}

export async function openBus(options: BusOptions): Promise<Bus> {
  if (options.brokers && options.brokers.length > 0) {
    checkKafkaTransport(options.brokers, options.security ?? {}, options.log ?? createLogger("bus"));
    const { KafkaBus } = await import("./kafka.ts");
    return new KafkaBus({ ...options, brokers: options.brokers });
  }
  return new MemoryBus();
}

/** The bus options a role's config (built with `busEntries`) asks for. */
export function busOptionsFrom(
  config: KafkaSecurityConfig & {
    KAFKA_BROKERS?: string[];
    KAFKA_CLIENT_ID?: string;
    KAFKA_TOPIC_PARTITIONS?: number;
    KAFKA_SESSION_TIMEOUT_MS?: number;
    KAFKA_HEARTBEAT_INTERVAL_MS?: number;
  },
  defaultClientId: string,
): BusOptions {
  return {
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? defaultClientId,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    // Files are read only when Kafka is used: an in-process bus needs none of them.
    security: config.KAFKA_BROKERS?.length ? kafkaSecurityFrom(config) : undefined,
  };
}
