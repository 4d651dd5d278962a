/**
 * Central's own figures for Prometheus: messages applied per topic, messages refused by reason,
 * how long batches take and where that time goes, how long messages took from the broker to their
 * commit, its consumer group's lag (Kafka) and how often it joined that group, and the messages
 * waiting in its outbox. The consumer reports into it through seven calls; everything else is
 * read when scraped.
 */
import { count } from "drizzle-orm";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Bus } from "../../bus/bus.ts";
import { KafkaBus } from "../../bus/kafka.ts";
import type { Db } from "../../db/client.ts";
import { outbox } from "../../db/schema/index.ts";
import { CountedHistogram } from "../../observability/counted-histogram.ts";
import { within } from "../../observability/registry.ts";

/**
 * Where a batch's time goes, in the order it passes through them:
 * - `waiting`: from its oldest message's timestamp at the broker to Central taking the batch up
 *   (the broker, the fetch, and the wait for the partition's previous batch and a free slot);
 * - `opening`: its envelopes opened and its messages validated;
 * - `turn`: decoded, waiting for a transaction to take it (only while batches of several
 *   partitions share transactions, CENTRAL_PARTITIONS_PER_TRANSACTION above 1);
 * - `transaction`: the transaction that applied it, from its begin to its commit.
 */
export const BATCH_PHASES = ["waiting", "opening", "turn", "transaction"] as const;
export type BatchPhase = (typeof BATCH_PHASES)[number];

export interface CentralMetrics {
  /** `n` messages of `topic` were applied (committed). */
  applied(topic: string, n: number): void;
  /** A message was refused: an envelope failure code, or invalid_payload, invalid_request, invalid_control. */
  refused(reason: string): void;
  /** A batch's transaction took this long. */
  batchSeconds(seconds: number): void;
  /** A batch spent this long in one of its phases (each batch of a shared transaction counts it). */
  phase(phase: BatchPhase, seconds: number): void;
  /** A batch of `topic` was committed at `now` (ms since the epoch): each message's delay since its broker timestamp. */
  committed(topic: string, messages: readonly { timestamp?: number }[], now: number): void;
  /** This Central joined its consumer group (at start, then at each rebalance). */
  groupJoined(): void;
  /** A transaction applied the batches of this many partitions (Kafka). */
  transaction(batches: number): void;
}

/** Buckets of the delay (seconds): fine where a healthy network is (under a second), coarse beyond. */
const DELAY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300];

const SCRAPE_READ_MS = 2000;

export function createCentralMetrics(
  registry: Registry,
  deps: {
    db: Db;
    bus: Bus;
    group: string;
    topics: string[];
    openSessions: () => number;
    readingsHeld: () => number;
    /** Envelopes opened on the opening thread and in place, and the thread's failures (none without a thread). */
    opened?: () => { thread: number; inPlace: number; failures: number };
    /** Channel keys and holders' active keys in the cache. */
    keysCached?: () => { keys: number; activeKeys: number };
  },
): CentralMetrics {
  const applied = new Counter({
    name: "evnet_central_messages_applied_total",
    help: "Messages this Central applied (committed with their effects), by topic.",
    labelNames: ["topic"],
    registers: [registry],
  });
  const refused = new Counter({
    name: "evnet_central_messages_refused_total",
    help: "Messages this Central refused and audited, by reason (tampered, replayed, unknown_key, revoked_key, cp_mismatch, malformed, invalid_payload, invalid_request, invalid_control).",
    labelNames: ["reason"],
    registers: [registry],
  });
  const batches = new Histogram({
    name: "evnet_central_batch_seconds",
    help: "Time to decode and apply one batch of messages (one database transaction).",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const phases = new Histogram({
    name: "evnet_central_batch_phase_seconds",
    help: "Where a batch's time goes, by phase: waiting (from its oldest message's timestamp at the broker to Central taking it up), opening (envelopes opened, messages validated), turn (decoded, waiting for a transaction shared with other partitions' batches), transaction (begin to commit).",
    labelNames: ["phase"],
    buckets: DELAY_BUCKETS,
    registers: [registry],
  });
  // Observed once per message applied: counted in place (prom-client's Histogram costs ~0.8 µs an observation).
  const delays = new CountedHistogram(
    "evnet_central_message_delay_seconds",
    "From a message's timestamp at the broker (set by its producer, on the sender's clock) to the commit of the batch that applied it, by topic: how far behind the chargers and drivers Central's state is.",
    "topic",
    DELAY_BUCKETS,
    registry,
  );
  const perTransaction = new Histogram({
    name: "evnet_central_batches_per_transaction",
    help: "Partitions' batches applied by one database transaction (Kafka): batches ready at the same moment go together. Its _count is the transactions, its _sum the batches.",
    buckets: [1, 2, 3, 4, 6, 8, 12],
    registers: [registry],
  });
  const joins = new Counter({
    name: "evnet_central_group_joins_total",
    help: "Times this Central joined its consumer group (Kafka): once at start, then once per rebalance. Rising while no Central starts or stops: the group keeps rebalancing.",
    registers: [registry],
  });
  new Gauge({
    name: "evnet_central_consumer_lag_messages",
    help: "Messages published but not yet committed by Central's consumer group, by topic (Kafka only; the whole group's).",
    labelNames: ["topic"],
    registers: [registry],
    async collect() {
      this.reset();
      if (!(deps.bus instanceof KafkaBus)) return;
      const bus = deps.bus;
      const lag = await within(SCRAPE_READ_MS, () => bus.lag(deps.group, deps.topics));
      if (!lag) return; // the broker did not answer: no figure rather than a wrong one
      for (const topic of deps.topics)
        this.set(
          { topic },
          lag.partitions.filter((p) => p.topic === topic).reduce((sum, p) => sum + p.lag, 0),
        );
    },
  });
  new Gauge({
    name: "evnet_central_outbox_messages",
    help: "Messages decided and committed but not yet published (Central's outbox, all instances).",
    registers: [registry],
    async collect() {
      const rows = await within(SCRAPE_READ_MS, () => deps.db.select({ n: count() }).from(outbox));
      if (rows?.[0]) this.set(Number(rows[0].n));
    },
  });
  new Gauge({
    name: "evnet_central_open_sessions_cached",
    help: "Sessions in progress this Central holds in its cache.",
    registers: [registry],
    collect() {
      this.set(deps.openSessions());
    },
  });
  new Gauge({
    name: "evnet_central_keys_cached",
    help: "Channel keys this Central holds in its cache (keys), and holders whose active key it holds (active_keys); either is dropped after half an hour unused.",
    labelNames: ["what"],
    registers: [registry],
    collect() {
      const cached = deps.keysCached?.();
      this.set({ what: "keys" }, cached?.keys ?? 0);
      this.set({ what: "active_keys" }, cached?.activeKeys ?? 0);
    },
  });
  new Gauge({
    name: "evnet_central_readings_held",
    help: "Sessions whose newest reading waits to be written to their row (CENTRAL_READINGS_INTERVAL).",
    registers: [registry],
    collect() {
      this.set(deps.readingsHeld());
    },
  });
  new Gauge({
    name: "evnet_central_envelopes_opened",
    help: "Envelopes whose cipher Central opened in batches since it started, by where: on its opening thread or in place (CENTRAL_OPENING_THREAD).",
    labelNames: ["where"],
    registers: [registry],
    collect() {
      const opened = deps.opened?.();
      this.set({ where: "thread" }, opened?.thread ?? 0);
      this.set({ where: "in_place" }, opened?.inPlace ?? 0);
    },
  });
  new Gauge({
    name: "evnet_central_opening_thread_failures",
    help: "Times Central's opening thread failed (died, or did not answer) and its batches were opened in place.",
    registers: [registry],
    collect() {
      this.set(deps.opened?.().failures ?? 0);
    },
  });
  return {
    applied: (topic, n) => applied.inc({ topic }, n),
    refused: (reason) => refused.inc({ reason }),
    batchSeconds: (s) => batches.observe(s),
    phase: (phase, s) => phases.observe({ phase }, Math.max(0, s)),
    groupJoined: () => joins.inc(),
    transaction: (n) => perTransaction.observe(n),
    committed(topic, messages, now) {
      const ofTopic = delays.labels(topic);
      // A sender's clock ahead of Central's would make a delay negative: counted as none.
      for (const m of messages) if (m.timestamp !== undefined) ofTopic.observe(Math.max(0, now - m.timestamp) / 1000);
    },
  };
}
