/** What Central's parts share: handles, settings and the one in-memory cache of open sessions. */
import type { Auditor } from "../../audit/audit.ts";
import type { Bus } from "../../bus/bus.ts";
import type { Topics } from "../../bus/topics.ts";
import type { Db } from "../../db/client.ts";
import type { Logger } from "../../lib/log.ts";
import type { CentralChannel } from "./channel.ts";
import type { ControlGate } from "./control-gate.ts";
import type { HeldReadings } from "./held-readings.ts";
import type { LiveFiguresSender } from "./live-figures.ts";
import type { CentralMetrics } from "./metrics.ts";
import type { OpenSessions } from "./open-sessions.ts";
import type { ProgressSender } from "./progress.ts";

export interface CentralSettings {
  /** Consumer group of the Central instances. */
  group: string;
  instance: string;
  defaultHeartbeatS: number;
  endGraceS: number;
  startTimeoutS: number;
  requestMaxAgeS: number;
  /** A control message signed longer ago than this is refused as stale (ms). */
  controlMaxAgeMs: number;
  /** Applied-offset bookkeeping in the database (off on the in-process bus, whose offsets restart at 0). */
  trackOffsets: boolean;
  /** Most partitions whose ready batches one transaction applies together (1: each alone). */
  partitionsPerTransaction: number;
  /** Most messages one transaction applies (a partition's batch alone may hold this many). */
  maxBatch: number;
}

/** When Central last failed to publish: decisions that assume the bus works wait a while after. */
export interface BusHealth {
  failedAt: number;
}

export interface CentralContext {
  db: Db;
  bus: Bus;
  topics: Topics;
  channel: CentralChannel;
  /** Checks control messages' signatures and age before they are applied. */
  controls: ControlGate;
  /** Audit entries written on their own (outside a unit of work): refused messages. */
  auditor: Auditor;
  log: Logger;
  settings: CentralSettings;
  sessions: OpenSessions;
  /** Readings whose rows are written once per interval (CENTRAL_READINGS_INTERVAL, Kafka only); absent: each as it comes. */
  held?: HeldReadings;
  /** Live progress to drivers, sent after commits without holding up the next batch. */
  progress: ProgressSender;
  /** Sessions' newest figures for the API's live view (absent without a control signing key). */
  live?: LiveFiguresSender;
  busHealth: BusHealth;
  /** Counters for Prometheus (absent where nobody reads them). */
  metrics?: CentralMetrics;
}
