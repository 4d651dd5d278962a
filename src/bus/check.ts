/** A round trip through the bus, for `evnet bus-check`: publish one message and wait for it. */
import { randomUUID } from "node:crypto";
import { AppError } from "../lib/errors.ts";
import { textDecoder } from "./bus.ts";
import { type BusOptions, openBus } from "./open.ts";

export interface BusCheckResult {
  topic: string;
  joinMs: number;
  publishMs: number;
  roundTripMs: number;
}

export async function checkBus(options: BusOptions, topicPrefix: string, timeoutMs: number): Promise<BusCheckResult> {
  const bus = await openBus(options);
  const topic = topicPrefix ? `${topicPrefix}.bus-check` : "bus-check";
  const probe = randomUUID();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await bus.ensureTopics([topic]);
    let arrived: () => void = () => {};
    const back = new Promise<void>((resolve) => (arrived = resolve));
    const joinStart = performance.now();
    // A group of its own, starting at the end of the topic: it sees only this run's message.
    const subscription = await bus.subscribe({ topics: [topic], groupId: `${topic}.${probe}`, from: "latest" }, async (batch) => {
      if (batch.some((m) => textDecoder.decode(m.value) === probe)) arrived();
    });
    const joinMs = performance.now() - joinStart;
    const sent = performance.now();
    await bus.publish(topic, [{ key: "bus-check", value: probe }]);
    const publishMs = performance.now() - sent;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError("unavailable", `the message published to ${topic} did not come back within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    await Promise.race([back, timeout]);
    const roundTripMs = performance.now() - sent;
    await subscription.close();
    const ms = (n: number) => Math.round(n);
    return { topic, joinMs: ms(joinMs), publishMs: ms(publishMs), roundTripMs: ms(roundTripMs) };
  } finally {
    clearTimeout(timer);
    await bus.close();
  }
}
