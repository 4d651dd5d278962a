/**
 * The charger's energy engine: supplies when Central authorises a session, streams its totals
 * every second, and ends on a stop from Central, its driver's own stop request, an unplugged
 * car, the maximum duration or a fault, reporting the final totals. Everything it says to
 * Central is sealed with the key its monitor handed it; while it has none (or the broker is
 * away) its messages wait in order.
 *
 * It says what it supplies when it starts (nothing: whatever Central believed, a restarted
 * engine has no session) and whenever Central asks, in order with everything else it sends, so
 * Central can close a session the charger no longer has.
 */
import type { Bus, BusMessage, Subscription } from "../../bus/bus.ts";
import { eachMessage } from "../../bus/each-message.ts";
import { keepSubscribed } from "../../bus/keep-subscribed.ts";
import { type CpCommand, type CpEvent, cpCommandSchema, nowIso } from "../../bus/messages.ts";
import { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import { isKeyRevokedNotice } from "../../bus/security-notice.ts";
import type { Topics } from "../../bus/topics.ts";
import { type CpChannel, createCpChannel, keyIdOf } from "../../cp/channel.ts";
import type { EnvelopeHeader } from "../../crypto/envelope.ts";
import type { ChannelKey } from "../../crypto/keys.ts";
import { isStopProof, stopClaimOf } from "../../crypto/stop-token.ts";
import type { EndReason } from "../../domain/billing.ts";
import type { Logger } from "../../lib/log.ts";
import { validate } from "../../lib/parsed.ts";
import { groupName } from "../group-names.ts";
import { type FinishedSupply, type Reading, Supply } from "./supply.ts";

export interface EngineOptions {
  cpId: string;
  powerKw: number;
  maxDurationS: number;
  telemetryMs: number;
  bus: Bus;
  topics: Topics;
  /** Names this engine's consumer group, so networks sharing a broker do not share groups. */
  topicPrefix: string;
  log: Logger;
}

/** How many ended sessions the engine remembers (a start sent again for one is ignored). */
const ENDED_REMEMBERED = 100;

/** A command sealed under a key the engine does not hold yet waits this long for its monitor to hand it over. */
const WAIT_FOR_KEY_MS = 30_000;
/** At most this many commands wait for keys not handed over (forged ones included): the oldest go first. */
const MAX_WAITING = 200;

export type EngineListener = (
  event: { kind: "reading"; reading: Reading } | { kind: "ended"; supply: FinishedSupply } | { kind: "started"; sessionId: string } | { kind: "state" },
) => void;

export class Engine {
  private channel?: CpChannel;
  private supply?: Supply;
  private timer?: ReturnType<typeof setInterval>;
  private subscription?: Subscription;
  private publisher: RetryingPublisher;
  /** Commands sealed under a key the monitor has not handed over yet, in arrival order. */
  private waiting: { message: BusMessage; keyId: string | undefined; since: number }[] = [];
  /** Commands (and key handovers) are handled one at a time, in order. */
  private turn: Promise<void> = Promise.resolve();
  private listeners: EngineListener[] = [];
  /** Commands sealed before this moment were meant for an engine that ran before this one. */
  private readonly bootedAt = Date.now();
  /** Sessions this engine supplied and ended, newest last: a start delivered again does not start them anew. */
  private readonly ended: string[] = [];
  faulted = false;
  lastReading?: Reading;
  lastFinished?: FinishedSupply;

  constructor(private o: EngineOptions) {
    this.publisher = new RetryingPublisher(o.bus, o.log);
    // First thing Central hears from this engine (once it has a key): it supplies nothing.
    this.reportState("started");
  }

  get cpId(): string {
    return this.o.cpId;
  }

  get keyId(): string | undefined {
    return this.channel?.keyId;
  }

  get sessionId(): string | undefined {
    return this.supply?.sessionId;
  }

  /** The meter of the supply in progress now (kWh); undefined when idle. */
  meterKwh(): number | undefined {
    return this.supply?.read(Date.now()).energyKwh;
  }

  /** Messages waiting for the bus, in words (undefined: none). */
  get backlog(): string | undefined {
    return this.publisher.backlog;
  }

  onEvent(listener: EngineListener): void {
    this.listeners.push(listener);
  }

  private emit(e: Parameters<EngineListener>[0]): void {
    for (const l of this.listeners) l(e);
  }

  /**
   * Follows Central's commands and its own CP's driver requests (a driver's stop is honoured
   * here directly); while the broker is away at start, keeps trying in the background.
   */
  listen(): Promise<void> {
    const { topics } = this.o;
    const kept = keepSubscribed(
      this.o.bus,
      { topics: [topics.cpCommands, topics.driverRequests], groupId: groupName(this.o.topicPrefix, "engine", this.o.cpId), from: "latest" },
      async (batch) => {
        if (batch[0]?.topic === topics.driverRequests) this.onDriverRequests(batch);
        else await this.onCommands(batch);
      },
      this.o.log,
    );
    this.subscription = kept;
    return kept.ready;
  }

  /**
   * The monitor handed over the CP's current key (at start, and after each re-authentication):
   * the commands that came sealed under it before it arrived are applied now, in order.
   */
  setKey(key: ChannelKey): void {
    if (this.channel?.keyId === key.keyId) return;
    if (this.channel) this.channel.setKey(key);
    else this.channel = createCpChannel({ cpId: this.o.cpId, role: "engine", key });
    this.o.log.info("channel key received from the monitor", { key_id: key.keyId });
    this.emit({ kind: "state" });
    void this.inTurn(async () => {
      const ready = this.waiting.filter((w) => w.keyId === key.keyId);
      this.waiting = this.waiting.filter((w) => w.keyId !== key.keyId);
      await eachMessage(
        ready.filter((w) => this.fresh(w)).map((w) => w.message),
        (m) => this.handle(m),
        this.o.log,
      );
    });
  }

  private inTurn(work: () => Promise<void>): Promise<void> {
    const next = this.turn.then(work).catch((err) => this.o.log.error("a command could not be handled", { err }));
    this.turn = next;
    return next;
  }

  private send(event: CpEvent, droppable = false): void {
    this.publisher.send(this.o.topics.cpEvents, () => this.channel?.seal(event), droppable);
  }

  /**
   * Never throws: a command that cannot be opened now waits aside (or is refused), one that
   * cannot be handled is passed over, and the ones after it go on.
   */
  private onCommands(batch: BusMessage[]): Promise<void> {
    return this.inTurn(() =>
      eachMessage(
        batch.filter((m) => m.key === this.o.cpId),
        (m) => this.handle(m),
        this.o.log,
      ),
    );
  }

  private async handle(m: BusMessage): Promise<void> {
    const opened = this.channel ? await this.channel.open(m) : undefined;
    if (!opened || (!opened.ok && opened.code === "unknown_key")) return this.waitForKey(m);
    if (!opened.ok) {
      this.o.log.warn("refused a message on the commands topic", { code: opened.code, reason: opened.reason });
      return;
    }
    if (isKeyRevokedNotice(opened.payload)) {
      this.o.log.warn("Central revoked the channel key; supply stops until the monitor authenticates again");
      if (this.supply) this.end("key_revoked");
      return;
    }
    const command = validate(cpCommandSchema, opened.payload);
    if (!command.ok) {
      this.o.log.warn("ignored an unknown command", { reason: command.reason });
      return;
    }
    this.apply(command.value, opened.header);
  }

  /**
   * A driver's stop request for the session in progress, with a proof made with the session's
   * stop token (which only Central, this engine and that driver know): the supply stops now,
   * without waiting for Central to pass it on, which may be down or behind. Central bills from
   * the final reading this sends, whenever it reads it.
   */
  private onDriverRequests(batch: BusMessage[]): void {
    for (const m of batch) {
      const supply = this.supply;
      if (m.key !== this.o.cpId || !supply?.stopToken) continue;
      // The request itself is sealed for Central: its headers say what the engine checks.
      const claim = stopClaimOf(m.headers);
      if (claim?.sessionId !== supply.sessionId) continue;
      if (!isStopProof(supply.stopToken, supply.sessionId, claim.requestId, claim.proof)) {
        this.o.log.warn("refused a stop request whose proof does not match the session", { session_id: claim.sessionId });
        continue;
      }
      this.o.log.info("the driver asked to stop: stopping now", { session_id: claim.sessionId, driver_id: supply.driverId });
      this.end("driver_stop");
    }
  }

  /** Tells Central what this engine supplies now (in order with everything it sent before). */
  private reportState(cause: "started" | "asked"): void {
    const reading = this.supply?.read(Date.now());
    this.send({ type: "engine_state", session_id: reading?.sessionId ?? null, energy_kwh: reading?.energyKwh, cause, at: nowIso() });
  }

  /**
   * A command sealed under a key the engine does not hold may be Central's, sent just after the
   * CP authenticated again and before the monitor handed the new key over; or a forgery under a
   * made-up key id. Either way it waits aside (a while, a bounded number of them) and does not
   * hold up the commands after it: those under the key the engine holds apply at once.
   */
  private waitForKey(m: BusMessage): void {
    this.waiting = this.waiting.filter((w) => this.fresh(w));
    if (this.waiting.length >= MAX_WAITING) this.waiting.shift();
    this.waiting.push({ message: m, keyId: keyIdOf(m), since: Date.now() });
  }

  private fresh(w: { since: number }): boolean {
    if (Date.now() - w.since < WAIT_FOR_KEY_MS) return true;
    this.o.log.warn("dropped a command: its key was not handed over in time");
    return false;
  }

  private apply(c: CpCommand, header: EnvelopeHeader): void {
    if (c.type === "report_state") {
      this.reportState("asked");
      return;
    }
    if (c.type === "start_supply") {
      if (this.supply?.sessionId === c.session_id || this.ended.includes(c.session_id)) return; // delivered again
      if (this.faulted) this.refuse(c.session_id, "the engine is in fault");
      else if (this.supply) this.refuse(c.session_id, `already supplying session ${this.supply.sessionId}`);
      // Meant for the engine that ran before this one (read again after a restart): that one
      // may have supplied it already, and this meter would start it again from zero.
      else if (header.ts < this.bootedAt) this.refuse(c.session_id, "the charging point restarted after this session was authorised; ask again");
      else this.start(c.session_id, c.driver_id, c.price_per_kwh, c.stop_token);
      return;
    }
    // Central itself refuses drivers at an unavailable CP: the engine has nothing to change.
    if (c.type !== "set_availability" && this.supply?.sessionId === c.session_id) this.end(c.reason);
  }

  private refuse(sessionId: string, reason: string): void {
    this.o.log.warn("refused to start a supply", { session_id: sessionId, reason });
    this.send({ type: "supply_refused", session_id: sessionId, reason, at: nowIso() });
  }

  private start(sessionId: string, driverId: string, price: number, stopToken?: string): void {
    this.supply = new Supply(sessionId, driverId, price, this.o.powerKw, Date.now(), stopToken);
    this.o.log.info("supplying", { session_id: sessionId, driver_id: driverId, power_kw: this.o.powerKw, price_per_kwh: price });
    this.send({ type: "supply_started", session_id: sessionId, at: nowIso() });
    this.timer = setInterval(() => this.tick(), this.o.telemetryMs);
    this.emit({ kind: "started", sessionId });
  }

  private tick(): void {
    const supply = this.supply;
    if (!supply) return;
    const now = Date.now();
    if (supply.overtime(now, this.o.maxDurationS)) {
      this.end("max_duration");
      return;
    }
    const r = supply.read(now);
    this.lastReading = r;
    this.send(
      {
        type: "telemetry",
        session_id: r.sessionId,
        power_kw: r.powerKw,
        energy_kwh: r.energyKwh,
        cost_eur: r.costEur,
        elapsed_s: r.elapsedS,
        at: new Date(now).toISOString(),
      },
      true,
    );
    this.emit({ kind: "reading", reading: r });
  }

  /** Ends the supply in progress and reports the final totals. */
  end(reason: EndReason): FinishedSupply | undefined {
    const supply = this.supply;
    if (!supply) return undefined;
    clearInterval(this.timer);
    this.supply = undefined;
    this.ended.push(supply.sessionId);
    if (this.ended.length > ENDED_REMEMBERED) this.ended.shift();
    const now = Date.now();
    const r = supply.read(now);
    const finished: FinishedSupply = { ...r, reason, startedAt: supply.startedAt, endedAt: now };
    this.lastFinished = finished;
    this.lastReading = undefined;
    this.o.log.info("supply ended", { session_id: r.sessionId, reason, energy_kwh: r.energyKwh, cost_eur: r.costEur });
    this.send({
      type: "supply_ended",
      session_id: r.sessionId,
      reason,
      power_kw: 0,
      energy_kwh: r.energyKwh,
      cost_eur: r.costEur,
      started_at: new Date(supply.startedAt).toISOString(),
      ended_at: new Date(now).toISOString(),
    });
    this.emit({ kind: "ended", supply: finished });
    return finished;
  }

  /** Simulates a fault (the monitor then sees KO) or the recovery from it. */
  setFault(faulted: boolean): void {
    if (this.faulted === faulted) return;
    this.faulted = faulted;
    this.o.log.warn(faulted ? "simulated fault: answering KO" : "recovered from the simulated fault: answering OK");
    if (faulted) this.end("fault");
    this.emit({ kind: "state" });
  }

  /** Simulates the driver unplugging the car. */
  unplug(): boolean {
    if (!this.supply) {
      this.o.log.info("unplug: no vehicle is charging");
      return false;
    }
    this.end("unplugged");
    return true;
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    // The charger going down ends its supply; Central gets the final totals if the bus takes them.
    if (this.supply) this.end("fault");
    // Give queued telemetry a moment to leave (the broker may be away: then it is lost with the process).
    await this.publisher.drain(2000);
    this.publisher.close();
  }
}
