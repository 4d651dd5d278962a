/**
 * `evnet central`: the control core. Consumes driver requests, CP events (sealed) and control
 * messages as one consumer group (instances split the CPs between them), keeps CP and session
 * state in the database, bills, audits, and sweeps for silent CPs and overdue sessions.
 */
import { hostname } from "node:os";
import { createAuditor } from "../../audit/audit.ts";
import type { Bus } from "../../bus/bus.ts";
import { ensureTopicsIfReachable, keepSubscribed } from "../../bus/keep-subscribed.ts";
import { LIVE_SIGNER } from "../../bus/live-figures.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { allTopics, type Topics, topicsFor } from "../../bus/topics.ts";
import { loadControlSigner, loadControlVerifier } from "../../certs/control-keys.ts";
import { OpeningThread } from "../../crypto/opening-thread.ts";
import { migrate } from "../../db/migrate.ts";
import { startHeartbeat } from "../../db/repos/heartbeats.ts";
import { onceReachable } from "../../db/unavailable.ts";
import { AppError } from "../../lib/errors.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import { createRegistry } from "../../observability/registry.ts";
import { groupName } from "../group-names.ts";
import { roleDatabase, type Shared } from "../shared.ts";
import { createCentralChannel } from "./channel.ts";
import type { CentralConfig } from "./config.ts";
import { createBatchHandler } from "./consumer.ts";
import type { CentralContext } from "./context.ts";
import { createControlGate } from "./control-gate.ts";
import { HeldReadings, startHeldWriter } from "./held-readings.ts";
import { startCentralHttp } from "./http.ts";
import { LiveFiguresSender } from "./live-figures.ts";
import { createCentralMetrics } from "./metrics.ts";
import { OpenSessions } from "./open-sessions.ts";
import { ProgressSender, PUBLISH_GAP_MS } from "./progress.ts";
import { startSamplePruning } from "./samples.ts";
import { startSweeper } from "./sweeper.ts";
import { deliveriesDone } from "./work.ts";

export interface RunningCentral {
  ctx: CentralContext;
  /** Where /metrics and the probes answer, when CENTRAL_METRICS_PORT is set. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function start(config: CentralConfig, shared: Shared = {}): Promise<RunningCentral> {
  const instance = config.CENTRAL_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const log = shared.log ?? createLogger("central");
  const verifier = loadControlVerifier(config.EVNET_CONTROL_PUBLIC_KEY); // before anything starts: Central cannot work without it
  const database = await roleDatabase(shared, config, "central", log);
  let applied: string[];
  try {
    applied = await onceReachable(
      () => migrate(database.db),
      (err) => log.warn("the database cannot be reached; trying again every second", { at: database.location, err }),
    );
  } catch (err) {
    if (!shared.database) await database.close().catch(() => {});
    throw new AppError("unavailable", `cannot use the database at ${database.location}: ${err instanceof Error ? err.message : String(err)}`);
  }
  log.info("database ready", { kind: database.kind, at: database.location, migrations_applied: applied.length });
  const bus = shared.bus ?? (await openBus(busOptionsFrom(config, `evnet-central-${instance}`)));
  const topics = topicsFor(config.EVNET_TOPIC_PREFIX);
  const group = config.EVNET_CENTRAL_GROUP ?? groupName(config.EVNET_TOPIC_PREFIX, "central");
  await ensureTopicsIfReachable(bus, allTopics(topics), log);
  const auditor = createAuditor(database.db, log);
  const opener = config.CENTRAL_OPENING_THREAD ? new OpeningThread(log, { minBatch: config.CENTRAL_OPENING_THREAD_MIN_BATCH }) : undefined;
  const channel = createCentralChannel({ db: database.db, auditor, log, bus, topics, masterKey: config.EVNET_MASTER_KEY, instance, opener });
  const controlMaxAgeMs = config.CENTRAL_CONTROL_MAX_AGE * 1000;
  const busHealth = { failedAt: 0 };
  // Readings are held back only where a restart can read them again (Kafka's offsets).
  const holding = bus.kind === "kafka" && config.CENTRAL_READINGS_INTERVAL > 0;
  const ctx: CentralContext = {
    db: database.db,
    bus,
    topics,
    channel,
    controls: createControlGate(verifier, controlMaxAgeMs, auditor),
    auditor,
    log,
    sessions: new OpenSessions(),
    progress: new ProgressSender(
      bus,
      topics.driverUpdates,
      channel,
      log,
      () => (busHealth.failedAt = Date.now()),
      config.CENTRAL_PROGRESS_INTERVAL * 1000,
      PUBLISH_GAP_MS,
    ),
    // Only while rows wait: a row written with each reading is as fresh as its live figures.
    live: holding ? liveSender(config, bus, topics, log, () => (busHealth.failedAt = Date.now())) : undefined,
    busHealth,
    held: holding ? new HeldReadings(config.CENTRAL_READINGS_INTERVAL * 1000) : undefined,
    settings: {
      group,
      instance,
      defaultHeartbeatS: config.MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL,
      endGraceS: config.CENTRAL_SESSION_END_GRACE,
      startTimeoutS: config.CENTRAL_SESSION_START_TIMEOUT,
      requestMaxAgeS: config.CENTRAL_REQUEST_MAX_AGE,
      controlMaxAgeMs,
      trackOffsets: bus.kind === "kafka",
      partitionsPerTransaction: config.CENTRAL_PARTITIONS_PER_TRANSACTION,
      maxBatch: config.CENTRAL_MAX_BATCH,
    },
  };
  const registry = createRegistry("central");
  ctx.metrics = createCentralMetrics(registry, {
    db: database.db,
    bus,
    group,
    topics: [topics.cpEvents, topics.driverRequests, topics.centralControl],
    openSessions: () => ctx.sessions.size,
    readingsHeld: () => ctx.held?.size ?? 0,
    opened: opener && (() => opener.counts),
    keysCached: () => ctx.channel.cached(),
  });
  if (opener) {
    const works = await opener.check();
    if (works) log.info("opening thread ready");
    else log.warn("the opening thread does not work here; envelopes are opened on Central's main thread");
  }
  const heldWriter = ctx.held && startHeldWriter(ctx, ctx.held);
  const subscription = keepSubscribed(
    bus,
    {
      topics: [topics.driverRequests, topics.cpEvents, topics.centralControl],
      groupId: group,
      from: "earliest",
      // Several partitions at once, but never two batches of one CP (its requests and its
      // events share a partition number): they would race on its rows.
      concurrency: config.CENTRAL_PARALLEL_PARTITIONS,
      maxBatch: config.CENTRAL_MAX_BATCH,
      batchIntervalMs: config.CENTRAL_BATCH_INTERVAL,
      commitIntervalMs: config.CENTRAL_COMMIT_INTERVAL,
      copartitioned: true,
      onGroupJoin: () => ctx.metrics?.groupJoined(),
      // Readings held back are read again after a restart until written (held-readings.ts);
      // a clean stop writes them before its last commit.
      keepFrom: ctx.held && ((topic, partition) => ctx.held?.keepFrom(topic, partition)),
      beforeLastCommit: heldWriter && (() => heldWriter.stop()),
    },
    createBatchHandler(ctx),
    log,
  );
  await subscription.ready;
  const sweeper = startSweeper(ctx, config.CENTRAL_SWEEP_INTERVAL * 1000);
  const pruning = startSamplePruning(database.db, log);
  const http =
    config.CENTRAL_METRICS_PORT === undefined
      ? undefined
      : startCentralHttp(ctx, registry, { hostname: config.CENTRAL_METRICS_HOST, port: config.CENTRAL_METRICS_PORT });
  const heartbeat = startHeartbeat(database.db, { service: "central", instance, details: () => ({ open_sessions_cached: ctx.sessions.size }) }, log);
  log.info("central ready", { instance, group, bus: bus.kind, topic_prefix: config.EVNET_TOPIC_PREFIX });
  return {
    ctx,
    metricsUrl: http?.url,
    async stop() {
      http?.drain();
      pruning.stop();
      await subscription.close();
      await heldWriter?.stop();
      await ctx.progress.flush();
      await ctx.live?.flush();
      await deliveriesDone(ctx);
      await sweeper.stop();
      await heartbeat.stop();
      await http?.stop();
      await opener?.close();
      if (!shared.bus) await bus.close();
      if (!shared.database) await database.close();
    },
  };
}

/** Central signs its live figures with the control key; without one the API shows the rows as they are written. */
function liveSender(config: CentralConfig, bus: Bus, topics: Topics, log: Logger, onFailure: () => void): LiveFiguresSender | undefined {
  const signer = loadControlSigner(config.EVNET_CONTROL_SIGNING_KEY, LIVE_SIGNER);
  if (!signer) log.info("no control signing key: the API's session figures come from the database only (set EVNET_CONTROL_SIGNING_KEY or run 'evnet certs')");
  return signer && new LiveFiguresSender(bus, topics.centralLive, signer, log, onFailure, PUBLISH_GAP_MS);
}
