/**
 * A publisher that does not lose what it is given while the broker is away: messages wait in
 * an in-memory queue, in order, and go out when the bus takes them again. Each message is
 * built (sealed) only when it is sent, so a key handed over meanwhile is the one used; a
 * message that cannot be built yet (no key) waits at the head of the queue.
 *
 * The engine's telemetry, the monitor's heartbeats and the driver's requests go through it.
 */

import type { Logger } from "../lib/log.ts";
import type { Bus, OutgoingMessage } from "./bus.ts";

export type MessageMaker = () => OutgoingMessage | undefined;

interface Queued {
  topic: string;
  make: MessageMaker;
  /** When the queue is full, droppable messages (telemetry superseded by later readings) go first. */
  droppable: boolean;
  /** A newer message with the same tag replaces a queued one (heartbeats: only the latest matters). */
  tag?: string;
}

export interface RetryingPublisherOptions {
  maxQueued?: number;
  retryMs?: number;
  maxBatch?: number;
}

export class RetryingPublisher {
  private queue: Queued[] = [];
  /** The queued message of each tag, to replace it without searching the queue. */
  private tagged = new Map<string, Queued>();
  /** The messages of the batch being published (already built: not to be replaced). */
  private sending = new Set<Queued>();
  private running = false;
  private closed = false;
  private failingSince?: number;
  private wake?: () => void;
  private readonly maxQueued: number;
  private readonly retryMs: number;
  private readonly maxBatch: number;

  constructor(
    private bus: Bus,
    private log: Logger,
    options: RetryingPublisherOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? 100_000;
    this.retryMs = options.retryMs ?? 1000;
    this.maxBatch = options.maxBatch ?? 200;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** True while the last attempt to publish failed. */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /** What waits to be sent, in words for a status panel; undefined when nothing does. */
  get backlog(): string | undefined {
    if (this.queue.length === 0) return undefined;
    return `waiting to send ${this.queue.length} message(s)${this.failing ? " (bus unreachable)" : ""}`;
  }

  send(topic: string, make: MessageMaker, droppable = false, tag?: string): void {
    if (this.closed) return;
    if (tag !== undefined) {
      const queued = this.tagged.get(tag);
      if (queued && !this.sending.has(queued)) {
        queued.make = make;
        return;
      }
    }
    if (this.queue.length >= this.maxQueued) {
      const victim = this.queue.findIndex((q, i) => i >= this.sending.size && q.droppable);
      const [dropped] = this.queue.splice(victim >= 0 ? victim : this.sending.size, 1);
      if (dropped?.tag !== undefined && this.tagged.get(dropped.tag) === dropped) this.tagged.delete(dropped.tag);
      this.log.warn("publish queue full: dropped the oldest message", { max: this.maxQueued });
    }
    const queued: Queued = { topic, make, droppable, tag };
    this.queue.push(queued);
    if (tag !== undefined) this.tagged.set(tag, queued);
    this.kick();
  }

  /** Waits until the queue is empty or `timeoutMs` passed; true when everything went out. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      this.kick();
      await Bun.sleep(20);
    }
    return this.queue.length === 0;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private kick(): void {
    if (this.wake) this.wake();
    if (this.running) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const head = this.queue[0]!;
      const batch: Queued[] = [];
      const messages: OutgoingMessage[] = [];
      for (const q of this.queue) {
        if (q.topic !== head.topic || batch.length >= this.maxBatch) break;
        const m = q.make();
        if (!m) break;
        batch.push(q);
        messages.push(m);
      }
      if (batch.length === 0) {
        await this.pause(); // the head cannot be built yet (no key): wait for a change
        continue;
      }
      for (const q of batch) this.sending.add(q);
      try {
        await this.bus.publish(head.topic, messages);
        this.queue.splice(0, batch.length);
        for (const q of batch) if (q.tag !== undefined && this.tagged.get(q.tag) === q) this.tagged.delete(q.tag);
        if (this.failingSince !== undefined) this.log.info("bus reachable again: queued messages sent", { down_for_ms: Date.now() - this.failingSince });
        this.failingSince = undefined;
        this.sending.clear();
      } catch (err) {
        this.sending.clear(); // rebuilt when tried again: a newer heartbeat may replace its older one meanwhile
        if (this.failingSince === undefined) {
          this.failingSince = Date.now();
          this.log.warn("cannot publish; keeping messages until the bus is back", { err, queued: this.queue.length });
        }
        await this.pause();
      }
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.retryMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}
