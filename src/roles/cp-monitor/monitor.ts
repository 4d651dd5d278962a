/**
 * The charger's supervisor: health-checks its engine every second over the local port (and
 * hands it the CP's current key), tells Central when the engine breaks or recovers, and sends
 * Central heartbeats. All it says to Central is sealed with the CP's key; while it has no key
 * (not authenticated yet) it supervises but stays silent.
 */
import type { Bus, BusMessage, Subscription } from "../../bus/bus.ts";
import { eachMessage } from "../../bus/each-message.ts";
import { keepSubscribed } from "../../bus/keep-subscribed.ts";
import { type CpEvent, type EngineHealth, type EngineSupply, nowIso } from "../../bus/messages.ts";
import { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import { isKeyRevokedNotice, type KeyRevokedNotice } from "../../bus/security-notice.ts";
import type { Topics } from "../../bus/topics.ts";
import { type CpChannel, createCpChannel } from "../../cp/channel.ts";
import type { ChannelKey } from "../../crypto/keys.ts";
import type { Logger } from "../../lib/log.ts";
import type { HealthAnswer } from "../cp-engine/protocol.ts";
import { groupName } from "../group-names.ts";
import { type EngineLink, NoAnswer } from "./engine-link.ts";

export interface MonitorOptions {
  cpId: string;
  link: EngineLink;
  bus: Bus;
  topics: Topics;
  topicPrefix: string;
  log: Logger;
  heartbeatS: number;
  healthEveryMs: number;
  /** Central's revocation notice arrived (the key guard re-authenticates). */
  onRevoked?(notice: KeyRevokedNotice): void;
}

export interface EngineVerdict {
  health: EngineHealth;
  detail: string;
  since: Date;
  supplying?: boolean;
  sessionId?: string | null;
  /** What the engine said it supplies at the last check; undefined when it did not answer. */
  supply?: EngineSupply;
}

export class Monitor {
  private channel?: CpChannel;
  private key?: ChannelKey;
  private publisher: RetryingPublisher;
  private subscription?: Subscription;
  private timers: ReturnType<typeof setInterval>[] = [];
  private checking = false;
  private keyHandedOn?: string;
  /** What Central was last told about the engine. */
  private reported?: "OK" | "KO";
  verdict: EngineVerdict = { health: "UNKNOWN", detail: "not checked yet", since: new Date() };
  lastHeartbeatAt?: Date;

  constructor(private o: MonitorOptions) {
    this.publisher = new RetryingPublisher(o.bus, o.log);
  }

  get cpId(): string {
    return this.o.cpId;
  }

  get keyId(): string | undefined {
    return this.key?.keyId;
  }

  /** Messages waiting for the bus, in words (undefined: none). */
  get backlog(): string | undefined {
    return this.publisher.backlog;
  }

  /** The CP's current key: at start and after each (re-)authentication. */
  setKey(key: ChannelKey): void {
    this.key = key;
    if (this.channel) this.channel.setKey(key);
    else this.channel = createCpChannel({ cpId: this.o.cpId, role: "monitor", key });
    this.keyHandedOn = undefined;
    this.reported = undefined; // tell Central the engine's health again under the new key
    void this.checkEngine();
  }

  async start(): Promise<void> {
    this.subscription = keepSubscribed(
      this.o.bus,
      { topics: [this.o.topics.cpCommands], groupId: groupName(this.o.topicPrefix, "monitor", this.o.cpId), from: "latest" },
      (batch) => this.onCommands(batch),
      this.o.log,
    );
    await this.checkEngine();
    this.heartbeat();
    this.timers.push(setInterval(() => void this.checkEngine(), this.o.healthEveryMs));
    this.timers.push(setInterval(() => this.heartbeat(), this.o.heartbeatS * 1000));
  }

  private send(event: CpEvent): void {
    this.publisher.send(this.o.topics.cpEvents, () => this.channel?.seal(event));
  }

  /**
   * While the bus is away only the latest heartbeat waits (built when it is sent), so the first
   * thing Central hears when the bus is back is that this monitor is alive now.
   */
  private heartbeat(): void {
    if (!this.channel) return;
    // Built when sent: it says what the engine supplied at the latest check before it left.
    const make = () =>
      this.channel?.seal({
        type: "heartbeat",
        interval_s: this.o.heartbeatS,
        engine: this.verdict.health,
        supply: this.verdict.supply,
        at: nowIso(),
      } satisfies CpEvent);
    this.publisher.send(this.o.topics.cpEvents, make, true, "heartbeat");
    this.lastHeartbeatAt = new Date();
  }

  /** Never throws: a message that cannot be handled is passed over, and the ones after it go on. */
  private onCommands(batch: BusMessage[]): Promise<void> {
    return eachMessage(
      batch.filter((m) => m.key === this.o.cpId),
      async (m) => {
        const opened = await this.channel?.open(m);
        if (opened?.ok && isKeyRevokedNotice(opened.payload)) {
          this.o.log.warn("Central says our key was revoked", { key_id: opened.payload.key_id, reason: opened.payload.reason });
          this.o.onRevoked?.(opened.payload);
        }
      },
      this.o.log,
    );
  }

  /** One health check; reports a change of verdict to Central and hands over the key when the engine lacks it. */
  async checkEngine(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const next = await this.ask();
      this.judge(next);
    } finally {
      this.checking = false;
    }
  }

  private async ask(): Promise<Omit<EngineVerdict, "since">> {
    try {
      const answer = await this.o.link.health();
      if (answer.cp_id !== this.o.cpId)
        return { health: "KO", detail: `the engine at ${this.o.link.host}:${this.o.link.port} is ${answer.cp_id}'s, not ${this.o.cpId}'s` };
      if (this.key && answer.key_id !== this.key.keyId) await this.handKey();
      const seen = { supplying: answer.supplying, sessionId: answer.session_id, supply: supplyOf(answer) };
      return answer.status === "OK" ? { health: "OK", detail: "health check OK", ...seen } : { health: "KO", detail: "the engine answers KO", ...seen };
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err;
      return { health: "KO", detail: `no answer from the engine: ${err.message}` };
    }
  }

  private async handKey(): Promise<void> {
    const key = this.key!;
    if (this.keyHandedOn === `${this.o.link.connection}/${key.keyId}`) return;
    await this.o.link.handKey(this.o.cpId, key);
    this.keyHandedOn = `${this.o.link.connection}/${key.keyId}`;
    this.o.log.info("handed the channel key to the engine", { key_id: key.keyId });
  }

  private judge(next: Omit<EngineVerdict, "since">): void {
    const changed = next.health !== this.verdict.health;
    this.verdict = { ...next, since: changed ? new Date() : this.verdict.since };
    if (changed) {
      if (next.health === "KO") this.o.log.warn("engine KO", { detail: next.detail });
      else this.o.log.info("engine OK", { detail: next.detail });
    }
    const health = next.health === "UNKNOWN" ? undefined : next.health;
    if (health && this.channel && health !== this.reported) {
      this.send({ type: "engine_status", status: health, detail: next.detail, at: nowIso() });
      this.reported = health;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.subscription?.close();
    this.o.link.close();
    await this.publisher.drain(2000);
    this.publisher.close();
  }
}

/** The supply a health answer reports (an engine of an older version may not give its meter). */
function supplyOf(answer: HealthAnswer): EngineSupply {
  if (!answer.supplying || !answer.session_id) return null;
  return { session_id: answer.session_id, energy_kwh: typeof answer.energy_kwh === "number" ? answer.energy_kwh : 0 };
}
