/**
 * The in-process bus, except that publishing to the topics in `refused` fails as it does while
 * a broker is away: for tests of what waits, and what is said, while the bus cannot be reached.
 */
import { type BatchHandler, type Bus, BusError, type OutgoingMessage, type SubscribeOptions, type Subscription, type TopicMessage } from "../../src/bus/bus.ts";
import type { MemoryBus } from "../../src/bus/memory.ts";

export class SwitchableBus implements Bus {
  readonly kind = "memory" as const;
  readonly refused = new Set<string>();

  constructor(private inner: MemoryBus) {}

  publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.refused.has(topic)) return Promise.reject(new BusError("unavailable", `cannot publish to ${topic}: the broker is away (test)`));
    return this.inner.publish(topic, messages);
  }

  /** Refused as a whole when any of its topics is refused: one request to a broker that is away. */
  publishAll(messages: TopicMessage[]): Promise<void> {
    const refused = messages.find((m) => this.refused.has(m.topic));
    if (refused) return Promise.reject(new BusError("unavailable", `cannot publish to ${refused.topic}: the broker is away (test)`));
    return this.inner.publishAll(messages);
  }

  subscribe(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    return this.inner.subscribe(options, handler);
  }

  ensureTopics(topics: string[]): Promise<void> {
    return this.inner.ensureTopics(topics);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
