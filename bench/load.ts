/**
 * The load generator: N chargers and their drivers in one process, speaking to Central only
 * through Kafka, exactly as the real roles do.
 *  - each charger's engine seals its telemetry every second (src/cp/channel.ts, its own key)
 *    and its monitor a heartbeat every 5 s; the engine obeys Central's sealed start/stop
 *    commands and reports supply_started / supply_ended;
 *  - each driver stops its session when it has lasted long enough, waits for the ticket,
 *    pauses, and asks for a charge again (driver requests sealed with its own key, keyed by the
 *    CP; Central's answers, progress and tickets come sealed for it and are opened);
 *  - a latency sampler follows a sample of the chargers from the start: for each telemetry it sends, it polls
 *    the API until the session shows that energy, and records how long that took (for the window's readings).
 *
 * Run by bench/run.ts: `bun bench/load.ts <config.json>`. It prints JSON lines on stdout:
 * `{"event":"started"}`, `{"event":"window_start"}` (once it gets SIGUSR1: the benchmark sends it
 * when Central caught up after the warm-up), `{"event":"window_end"}` and then
 * `{"event":"report",...}`; it keeps the load on until SIGTERM. In prefill mode it seals a
 * backlog of telemetry as fast as it can and prints `{"event":"prefilled","count":n}`.
 */
import { readFileSync } from "node:fs";
import type { BusMessage, OutgoingMessage } from "../src/bus/bus.ts";
import { KafkaBus } from "../src/bus/kafka.ts";
import type { ChargeRequest, CpEvent, StopRequest } from "../src/bus/messages.ts";
import { topicsFor } from "../src/bus/topics.ts";
import { type CpChannel, createCpChannel } from "../src/cp/channel.ts";
import { costOf, type EndReason, energyOver, meterKwh } from "../src/domain/billing.ts";
import { createDriverChannel, type DriverChannel } from "../src/roles/driver/channel.ts";
import type { Charger } from "./fleet.ts";
import { LatencySampler } from "./latency.ts";
import { sessionLeft, sessionLength } from "./session-lengths.ts";
import { summarise } from "./stats.ts";

/** How the chargers and drivers behave and how long they are measured (the run's settings). */
export interface SimulationSettings {
  warmupS: number;
  seconds: number;
  meanSessionS: number;
  idleS: number;
  powerKw: number;
  heartbeatS: number;
  latencySample: number;
  pollMinMs: number;
}

export interface LoadConfig extends SimulationSettings {
  brokers: string[];
  topicPrefix: string;
  apiUrl: string;
  chargersFile: string;
  mode: "steady" | "prefill";
  /** Prefill: seconds of telemetry per charger to put on the topic. */
  prefillSeconds: number;
}

const TICK_MS = 20;
const SLOTS_PER_SECOND = 1000 / TICK_MS;

interface Session {
  id: string;
  startedAt: number;
  /** When its driver asks to stop. */
  stopAt: number;
}

type Phase = "supplying" | "stopping" | "idle" | "requesting";

interface SimCharger {
  c: Charger;
  engine: CpChannel;
  monitor: CpChannel;
  driver: DriverChannel;
  phase: Phase;
  session?: Session;
  nextRequestAt: number;
  sampled: boolean;
}

interface Counts {
  telemetry: number;
  heartbeats: number;
  supplyStarted: number;
  supplyEnded: number;
  chargeRequests: number;
  stopRequests: number;
  startCommands: number;
  stopCommands: number;
  authorised: number;
  tickets: number;
  refused: Record<string, number>;
  lateTicks: number;
}

const newCounts = (): Counts => ({
  telemetry: 0,
  heartbeats: 0,
  supplyStarted: 0,
  supplyEnded: 0,
  chargeRequests: 0,
  stopRequests: 0,
  startCommands: 0,
  stopCommands: 0,
  authorised: 0,
  tickets: 0,
  refused: {},
  lateTicks: 0,
});

/** Messages for one topic, published in order with one send in flight; the next send takes all that piled up. */
class OrderedSender {
  private pending: { message: OutgoingMessage; sealedAt: number }[] = [];
  private running = false;
  readonly delays: number[] = [];
  recordDelays = false;

  constructor(
    private bus: KafkaBus,
    private topic: string,
  ) {}

  push(message: OutgoingMessage): void {
    this.pending.push({ message, sealedAt: performance.now() });
    if (!this.running) void this.run();
  }

  get backlog(): number {
    return this.pending.length;
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.pending.length) {
      const batch = this.pending.splice(0, 5000);
      try {
        await this.bus.publish(
          this.topic,
          batch.map((b) => b.message),
        );
      } catch (err) {
        console.error(`publish to ${this.topic} failed: ${String(err)}`);
        this.pending.unshift(...batch);
        await Bun.sleep(200);
        continue;
      }
      if (this.recordDelays) {
        const now = performance.now();
        this.delays.push(now - batch[0]!.sealedAt);
      }
    }
    this.running = false;
  }
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

class LoadGenerator {
  private chargers: SimCharger[];
  private byCp = new Map<string, SimCharger>();
  private byDriver = new Map<string, SimCharger>();
  private bus: KafkaBus;
  private topics;
  private events: OrderedSender;
  private requests: OrderedSender;
  private counts = newCounts();
  private sampler: LatencySampler;
  private timer?: ReturnType<typeof setInterval>;
  private lastTick = 0;
  private requestSeq = 0;

  constructor(private config: LoadConfig) {
    const seeded = JSON.parse(readFileSync(config.chargersFile, "utf8")) as Charger[];
    const now = Date.now();
    const every = Math.max(1, Math.floor(seeded.length / Math.max(1, config.latencySample)));
    this.chargers = seeded.map((c, i) => {
      const key = { keyId: c.keyId, key: new Uint8Array(Buffer.from(c.key, "base64url")) };
      return {
        c,
        engine: createCpChannel({ cpId: c.cpId, role: "engine", key }),
        monitor: createCpChannel({ cpId: c.cpId, role: "monitor", key }),
        driver: createDriverChannel(c.driverId, { keyId: c.driverKeyId, key: new Uint8Array(Buffer.from(c.driverKey, "base64url")) }),
        phase: "supplying" as Phase,
        session: { id: c.sessionId, startedAt: c.startedAt, stopAt: now + sessionLeft(config.meanSessionS * 1000) },
        nextRequestAt: 0,
        sampled: i % every === 0 && i / every < config.latencySample,
      };
    });
    for (const s of this.chargers) {
      this.byCp.set(s.c.cpId, s);
      this.byDriver.set(s.c.driverId, s);
    }
    this.bus = new KafkaBus({ brokers: config.brokers, clientId: "bench-load" });
    this.topics = topicsFor(config.topicPrefix);
    this.events = new OrderedSender(this.bus, this.topics.cpEvents);
    this.requests = new OrderedSender(this.bus, this.topics.driverRequests);
    this.sampler = new LatencySampler(config.apiUrl, config.pollMinMs);
  }

  // ---- steady load -------------------------------------------------------------------

  async run(): Promise<void> {
    const prefix = this.config.topicPrefix;
    // All the engines' and all the drivers' consumers are one subscription each here: they commit
    // their offsets at most four times a second, not once per batch (the simulation's bookkeeping
    // with the broker, which shares the machine with Central).
    const commitIntervalMs = 250;
    await this.bus.subscribe({ topics: [this.topics.cpCommands], groupId: `${prefix}.bench-engines`, from: "latest", commitIntervalMs }, (b) =>
      this.onCommands(b),
    );
    await this.bus.subscribe({ topics: [this.topics.driverUpdates], groupId: `${prefix}.bench-drivers`, from: "latest", commitIntervalMs }, (b) =>
      this.onDriverUpdates(b),
    );
    this.lastTick = Math.floor(Date.now() / TICK_MS);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.sampler.follow();
    emit({ event: "started", chargers: this.chargers.length });
    // The window opens when the benchmark says Central caught up with the start (SIGUSR1, sent
    // after the warm-up), so that it measures the steady state and not a cold start's backlog.
    await windowOpened;
    this.counts = newCounts();
    this.events.recordDelays = true;
    this.sampler.open();
    const windowStart = Date.now();
    emit({ event: "window_start", at: windowStart });
    await Bun.sleep(this.config.seconds * 1000);
    this.sampler.closeWindow();
    const windowEnd = Date.now();
    const counts = structuredClone(this.counts);
    emit({ event: "window_end", at: windowEnd });
    // Readings sent near the end still need their time to show up in the API.
    await this.sampler.settle(10_000);
    emit({
      event: "report",
      windowStart,
      windowEnd,
      counts,
      latencyMs: this.sampler.summary(),
      publishDelayMs: summarise(this.events.delays),
      senderBacklogAtEnd: this.events.backlog,
      open: this.chargers.filter((s) => s.phase === "supplying").length,
    });
  }

  private tick(): void {
    const nowTick = Math.floor(Date.now() / TICK_MS);
    if (nowTick - this.lastTick > 5) this.counts.lateTicks++;
    for (let t = this.lastTick + 1; t <= nowTick; t++) this.slot(t);
    this.lastTick = nowTick;
  }

  /** The chargers whose turn it is in tick `t`: telemetry each second, heartbeats every few. */
  private slot(t: number): void {
    const n = this.chargers.length;
    const telemetrySlot = t % SLOTS_PER_SECOND;
    const heartbeatSlots = SLOTS_PER_SECOND * this.config.heartbeatS;
    const heartbeatSlot = t % heartbeatSlots;
    const now = Date.now();
    for (let i = telemetrySlot; i < n; i += SLOTS_PER_SECOND) this.everySecond(this.chargers[i]!, now);
    for (let i = heartbeatSlot; i < n; i += heartbeatSlots) this.heartbeat(this.chargers[i]!);
  }

  private everySecond(s: SimCharger, now: number): void {
    if (s.phase === "supplying" && s.session) {
      this.telemetry(s, s.session, now);
      if (now >= s.session.stopAt) this.stopRequest(s, s.session);
    } else if (s.phase === "idle" && now >= s.nextRequestAt) {
      this.chargeRequest(s);
    } else if ((s.phase === "requesting" || s.phase === "stopping") && now >= s.nextRequestAt) {
      // No answer in time (a lost request is the driver's problem to retry): ask again.
      if (s.phase === "requesting") this.chargeRequest(s);
      else if (s.session) this.stopRequest(s, s.session);
    }
  }

  private reading(s: SimCharger, session: Session, now: number) {
    const energy = meterKwh(energyOver(this.config.powerKw, now - session.startedAt));
    return { energy, cost: costOf(energy, s.c.pricePerKwh), elapsed: Math.round((now - session.startedAt) / 100) / 10 };
  }

  private telemetry(s: SimCharger, session: Session, now: number): void {
    const r = this.reading(s, session, now);
    const event: CpEvent = {
      type: "telemetry",
      session_id: session.id,
      power_kw: this.config.powerKw,
      energy_kwh: r.energy,
      cost_eur: r.cost,
      elapsed_s: r.elapsed,
      at: new Date(now).toISOString(),
    };
    this.events.push(s.engine.seal(event));
    this.counts.telemetry++;
    if (s.sampled) this.sampler.sent(session.id, r.energy, now);
  }

  private heartbeat(s: SimCharger): void {
    this.events.push(s.monitor.seal({ type: "heartbeat", interval_s: this.config.heartbeatS, engine: "OK", at: new Date().toISOString() }));
    this.counts.heartbeats++;
  }

  private requestId(s: SimCharger): string {
    return `${s.c.driverId}-${Date.now().toString(36)}-${++this.requestSeq}`;
  }

  private chargeRequest(s: SimCharger): void {
    const request: ChargeRequest = {
      type: "charge_request",
      request_id: this.requestId(s),
      driver_id: s.c.driverId,
      cp_id: s.c.cpId,
      at: new Date().toISOString(),
    };
    this.requests.push(s.driver.seal(request, s.c.cpId));
    s.phase = "requesting";
    s.nextRequestAt = Date.now() + 30_000;
    this.counts.chargeRequests++;
  }

  private stopRequest(s: SimCharger, session: Session): void {
    const request: StopRequest = {
      type: "stop_request",
      request_id: this.requestId(s),
      driver_id: s.c.driverId,
      cp_id: s.c.cpId,
      session_id: session.id,
      at: new Date().toISOString(),
    };
    this.requests.push(s.driver.seal(request, s.c.cpId));
    s.phase = "stopping";
    s.nextRequestAt = Date.now() + 30_000;
    this.counts.stopRequests++;
  }

  // ---- what Central says ---------------------------------------------------------------

  private async onCommands(batch: BusMessage[]): Promise<void> {
    for (const m of batch) {
      const s = this.byCp.get(m.key);
      if (!s) continue;
      const opened = await s.engine.open<{ type: string; session_id: string; reason?: EndReason }>(m);
      if (!opened.ok) continue;
      const command = opened.payload;
      const now = Date.now();
      if (command.type === "start_supply") {
        this.counts.startCommands++;
        if (s.session?.id === command.session_id) continue;
        s.session = { id: command.session_id, startedAt: now, stopAt: now + sessionLength(this.config.meanSessionS * 1000) };
        s.phase = "supplying";
        this.events.push(s.engine.seal({ type: "supply_started", session_id: command.session_id, at: new Date(now).toISOString() }));
        this.counts.supplyStarted++;
      } else if (command.type === "stop_supply") {
        this.counts.stopCommands++;
        const session = s.session;
        if (!session || session.id !== command.session_id) continue;
        const r = this.reading(s, session, now);
        this.events.push(
          s.engine.seal({
            type: "supply_ended",
            session_id: session.id,
            reason: command.reason ?? "driver_stop",
            power_kw: 0,
            energy_kwh: r.energy,
            cost_eur: r.cost,
            started_at: new Date(session.startedAt).toISOString(),
            ended_at: new Date(now).toISOString(),
          }),
        );
        this.counts.supplyEnded++;
        s.session = undefined;
        s.phase = "stopping"; // until the ticket comes
      }
    }
  }

  private async onDriverUpdates(batch: BusMessage[]): Promise<void> {
    for (const m of batch) {
      // Every update is sealed for its driver: live progress too (most of this topic), which a driver only glances at.
      const s = this.byDriver.get(m.key);
      const opened = await s?.driver.open<{ type: string; code?: string }>(m);
      if (!s || !opened?.ok || opened.payload.type === "progress") continue;
      const update = opened.payload;
      const now = Date.now();
      if (update.type === "authorised") this.counts.authorised++;
      else if (update.type === "ticket") {
        this.counts.tickets++;
        if (s.phase !== "supplying") {
          s.phase = "idle";
          s.nextRequestAt = now + this.config.idleS * 1000;
        }
      } else if (update.type === "refused") {
        const code = update.code ?? "?";
        this.counts.refused[code] = (this.counts.refused[code] ?? 0) + 1;
        if (s.phase === "requesting") {
          s.phase = "idle";
          s.nextRequestAt = now + this.config.idleS * 1000;
        }
      }
    }
  }

  // ---- prefill ------------------------------------------------------------------------

  /** Seals `prefillSeconds` of telemetry per charger (in time order) and publishes it all. */
  async prefill(): Promise<void> {
    const start = Date.now() - this.config.prefillSeconds * 1000;
    let count = 0;
    for (let second = 0; second < this.config.prefillSeconds; second++) {
      const batch: OutgoingMessage[] = [];
      for (const s of this.chargers) {
        const at = start + second * 1000;
        const session = s.session!;
        const r = this.reading(s, session, at);
        batch.push(
          s.engine.seal({
            type: "telemetry",
            session_id: session.id,
            power_kw: this.config.powerKw,
            energy_kwh: r.energy,
            cost_eur: r.cost,
            elapsed_s: r.elapsed,
            at: new Date(at).toISOString(),
          }),
        );
      }
      for (let i = 0; i < batch.length; i += 5000) await this.bus.publish(this.topics.cpEvents, batch.slice(i, i + 5000));
      count += batch.length;
    }
    emit({ event: "prefilled", count });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.sampler.close();
    await this.bus.close();
  }
}

/** Resolved by SIGUSR1: the measured window may open. */
let openWindow: () => void = () => {};
const windowOpened = new Promise<void>((resolve) => {
  openWindow = resolve;
});
process.on("SIGUSR1", () => openWindow());

if (import.meta.main) {
  const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadConfig;
  const generator = new LoadGenerator(config);
  const stop = async () => {
    await generator.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  if (config.mode === "prefill") {
    // Seeded sessions began long enough ago for the backlog's readings to rise from their start.
    await generator.prefill();
    await stop();
  } else {
    await generator.run();
  }
}
