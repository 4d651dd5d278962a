/**
 * Subscribes, and keeps trying while the broker cannot be reached at start: a charger (or a
 * driver's app, or Central) started during a broker outage comes up, and joins the bus when it
 * is back. Once subscribed, the bus adapter itself reconnects after later outages.
 */
import type { Logger } from "../lib/log.ts";
import { type BatchHandler, type Bus, BusError, type SubscribeOptions, type Subscription } from "./bus.ts";

const MAX_RETRY_MS = 5000;

export interface KeptSubscription extends Subscription {
  /** Resolves once subscribed (never rejects: it keeps trying until closed). */
  ready: Promise<void>;
}

export function keepSubscribed(bus: Bus, options: SubscribeOptions, handler: BatchHandler, log: Logger): KeptSubscription {
  let closed = false;
  let subscription: Subscription | undefined;
  let wake: (() => void) | undefined;
  const ready = (async () => {
    let delay = 500;
    let warned = false;
    while (!closed) {
      try {
        subscription = await bus.subscribe(options, handler);
        if (warned) log.info("subscribed now that the bus is reachable", { group: options.groupId });
        return;
      } catch (err) {
        if (!(err instanceof BusError) || err.code === "closed") throw err;
        if (!warned) log.warn("cannot subscribe yet; retrying until the bus is reachable", { group: options.groupId, err });
        warned = true;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, delay);
        });
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  })();
  return {
    ready: ready.catch((err) => {
      if (!closed) log.error("subscription failed", { group: options.groupId, err });
    }),
    async close() {
      closed = true;
      wake?.();
      await ready.catch(() => {});
      await subscription?.close();
    },
  };
}

/** Creates the topics if it can; a broker that is away now will have them created later by whoever starts next. */
export async function ensureTopicsIfReachable(bus: Bus, topics: string[], log: Logger): Promise<void> {
  try {
    await bus.ensureTopics(topics);
  } catch (err) {
    if (!(err instanceof BusError)) throw err;
    log.warn("cannot check the topics now (the bus is unreachable); going on", { err });
  }
}
