/** Opens the bus a role is configured for: Kafka when brokers are given, else in-process. */
import type { Bus } from "./bus.ts";
import { MemoryBus } from "./memory.ts";

export interface BusOptions {
  brokers?: string[];
  clientId: string;
}

export async function openBus(options: BusOptions): Promise<Bus> {
  if (options.brokers && options.brokers.length > 0) {
    const { KafkaBus } = await import("./kafka.ts");
    return new KafkaBus({ brokers: options.brokers, clientId: options.clientId });
  }
  return new MemoryBus();
}
