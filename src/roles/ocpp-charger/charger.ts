/**
 * A simulated OCPP charger with one connector, for people without hardware: it boots, sends
 * heartbeats and status, answers its central system's remote start and stop and availability
 * changes, charges at a fixed power with a meter that only counts up, and can be plugged,
 * unplugged, tapped with an RFID card and faulted (its menu). Like a real charger it keeps
 * charging while disconnected and sends its transaction messages, in order, once it is back.
 * Speaks 1.6 or 2.0.1 through ocpp-rpc's client in strict mode.
 */
import { readFileSync } from "node:fs";
import { RPCClient } from "ocpp-rpc";
import { AppError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { ChargerConfig } from "./config.ts";

interface Transaction {
  /** 1.6: the central system's id once it answered; 2.0.1: ours. */
  id?: string;
  idTag: string;
  startWh: number;
  startedAt: Date;
  seq: number;
}

/**
 * The fields the charger reads of its central system's answers (ocpp-rpc's strict mode has checked
 * them against the version's schemas; each answer has the few of them its call defines).
 */
interface Answer {
  transactionId?: number;
  idTagInfo?: { status?: string };
  idTokenInfo?: { status?: string };
}

/** Handshake refusals that trying again will not fix. */
const FINAL_REFUSALS: Record<number, string> = {
  400: "no OCPP version in common, or a malformed id",
  401: "wrong password or client certificate",
  403: "this charger must connect over wss:// (its security profile)",
  404: "no such charger is registered",
};

export type ChargerState = "Available" | "Preparing" | "Charging" | "Finishing" | "Faulted" | "Unavailable";

export class SimulatedCharger {
  readonly client: RPCClient;
  readonly v16: boolean;
  meterWh = Math.round(Math.random() * 1_000_000);
  plugged = false;
  faulted = false;
  available = true;
  connected = false;
  tx?: Transaction;
  private outbox: { method: string; params: () => Record<string, unknown>; then?: (answer: Answer) => void }[] = [];
  private pumping = false;
  private meterTimer?: ReturnType<typeof setInterval>;
  /** When the meter last counted the power delivered. */
  private meteredAt = 0;
  private heartbeatTimer?: ReturnType<typeof setInterval>;
  private stopping = false;

  constructor(
    readonly config: ChargerConfig,
    private log: Logger,
  ) {
    this.v16 = config.OCPP_VERSION === "1.6";
    const tls =
      config.OCPP_URL.startsWith("wss:") || config.OCPP_CHARGER_CERT
        ? {
            ca: config.EVNET_CA_FILE ? readFileSync(config.EVNET_CA_FILE) : undefined,
            cert: config.OCPP_CHARGER_CERT ? readFileSync(config.OCPP_CHARGER_CERT) : undefined,
            key: config.OCPP_CHARGER_KEY ? readFileSync(config.OCPP_CHARGER_KEY) : undefined,
          }
        : undefined;
    this.client = new RPCClient({
      endpoint: config.OCPP_URL.replace(/\/$/, ""),
      identity: config.OCPP_CHARGER_ID,
      password: config.OCPP_PASSWORD ?? null,
      protocols: [this.v16 ? "ocpp1.6" : "ocpp2.0.1"],
      strictMode: true,
      reconnect: true,
      maxReconnects: Number.POSITIVE_INFINITY,
      wsOpts: tls ? { ...tls, tls } : undefined,
      backoff: { initialDelay: 500, maxDelay: 15_000, factor: 2, randomisationFactor: 0.25 },
    } as never);
    this.handleCalls();
    this.client.on("open", () => void this.onOpen());
    this.client.on("close", () => (this.connected = false));
    this.client.on("disconnect", () => {
      this.connected = false;
      this.log.warn("disconnected from the central system: charging goes on, messages wait");
    });
  }

  get state(): ChargerState {
    if (this.faulted) return "Faulted";
    if (this.tx) return "Charging";
    if (!this.available) return "Unavailable";
    return this.plugged ? "Preparing" : "Available";
  }

  /**
   * Connects, and like a real charger keeps trying while its central system is away or busy
   * (a refused connection, 503 during a reconnection storm): waits 1 s, then twice as long each
   * time up to a minute, give or take a quarter. A refusal that waiting cannot fix (an unknown
   * id, a wrong password or certificate, no common OCPP version) ends it with the reason.
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.client.connect();
        return;
      } catch (err) {
        const status = (err as { code?: unknown }).code;
        if (typeof status === "number" && FINAL_REFUSALS[status])
          throw new AppError("unauthorized", `the central system refused ${this.config.OCPP_CHARGER_ID} (${status}): ${FINAL_REFUSALS[status]}`);
        const waitS = Math.min(60, 2 ** attempt) * (0.75 + Math.random() / 2);
        this.log.warn("could not connect to the central system; trying again", {
          in_s: waitS.toFixed(1),
          err: err instanceof Error ? err.message : String(err),
        });
        await Bun.sleep(waitS * 1000);
      }
    }
  }

  private async onOpen(): Promise<void> {
    this.connected = true;
    const boot = (await this.client.call(
      "BootNotification",
      this.v16
        ? { chargePointVendor: this.config.OCPP_CHARGER_VENDOR, chargePointModel: this.config.OCPP_CHARGER_MODEL, firmwareVersion: "sim-1" }
        : {
            reason: "PowerUp",
            chargingStation: { vendorName: this.config.OCPP_CHARGER_VENDOR, model: this.config.OCPP_CHARGER_MODEL, firmwareVersion: "sim-1" },
          },
    )) as { status: string; interval: number };
    this.log.info("booted", { status: boot.status, heartbeat_s: boot.interval, ocpp: this.config.OCPP_VERSION });
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.client.call("Heartbeat", {}).catch(() => undefined), Math.max(1, boot.interval) * 1000);
    await this.sendStatus();
    void this.pump();
  }

  /** Answers the central system's calls. */
  private handleCalls(): void {
    // ocpp-rpc's strict mode has checked each call's params against the version's schema.
    const on = <P>(method: string, fn: (p: P) => Record<string, unknown>) => this.client.handle(method, async ({ params }) => fn((params ?? {}) as P));
    const startRemote = (idTag: string): boolean => {
      if (this.faulted || !this.available || this.tx) return false;
      this.plugged = true;
      setTimeout(() => this.startTransaction(idTag), 100);
      return true;
    };
    const stopRemote = (id: string): boolean => {
      if (!this.tx || this.tx.id !== id) return false;
      setTimeout(() => this.stopTransaction("Remote"), 100);
      return true;
    };
    const availability = (available: boolean): string => {
      this.available = available;
      setTimeout(() => void this.sendStatus(), 50);
      return this.tx && !available ? "Scheduled" : "Accepted";
    };
    if (this.v16) {
      on<{ idTag: string }>("RemoteStartTransaction", (p) => ({ status: startRemote(p.idTag) ? "Accepted" : "Rejected" }));
      on<{ transactionId: number }>("RemoteStopTransaction", (p) => ({ status: stopRemote(String(p.transactionId)) ? "Accepted" : "Rejected" }));
      on<{ type: string }>("ChangeAvailability", (p) => ({ status: availability(p.type === "Operative") }));
    } else {
      on<{ idToken: { idToken: string } }>("RequestStartTransaction", (p) => ({ status: startRemote(p.idToken.idToken) ? "Accepted" : "Rejected" }));
      on<{ transactionId: string }>("RequestStopTransaction", (p) => ({ status: stopRemote(p.transactionId) ? "Accepted" : "Rejected" }));
      on<{ operationalStatus: string }>("ChangeAvailability", (p) => ({ status: availability(p.operationalStatus === "Operative") }));
    }
  }

  async sendStatus(): Promise<void> {
    const status = this.state;
    const at = new Date().toISOString();
    const params = this.v16
      ? { connectorId: 1, errorCode: this.faulted ? "OtherError" : "NoError", status, timestamp: at }
      : {
          timestamp: at,
          evseId: 1,
          connectorId: 1,
          connectorStatus: status === "Faulted" ? "Faulted" : status === "Unavailable" ? "Unavailable" : status === "Available" ? "Available" : "Occupied",
        };
    await this.client.call("StatusNotification", params).catch((err) => this.log.warn("status not sent", { err: String(err) }));
  }

  /** Queues a transaction message: sent in order, again after a failure, as real chargers do. */
  private queue(method: string, params: () => Record<string, unknown>, then?: (answer: Answer) => void): void {
    this.outbox.push({ method, params, then });
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.outbox.length && this.connected) {
        const head = this.outbox[0]!;
        try {
          const answer = (await this.client.call(head.method, head.params())) as Answer;
          this.outbox.shift();
          head.then?.(answer);
        } catch (err) {
          this.log.warn("a transaction message waits for the connection", { method: head.method, err: String(err) });
          await Bun.sleep(2000);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private energySample(context: string, at = new Date()): Record<string, unknown> {
    return this.v16
      ? {
          timestamp: at.toISOString(),
          sampledValue: [{ value: String(Math.round(this.meterWh)), context, measurand: "Energy.Active.Import.Register", unit: "Wh" }],
        }
      : { timestamp: at.toISOString(), sampledValue: [{ value: Math.round(this.meterWh), context, measurand: "Energy.Active.Import.Register" }] };
  }

  private powerSample(): Record<string, unknown> {
    const kw = this.config.OCPP_CHARGER_POWER_KW;
    return this.v16 ? { value: String(kw), measurand: "Power.Active.Import", unit: "kW" } : { value: kw * 1000, measurand: "Power.Active.Import" };
  }

  private txEvent(eventType: string, trigger: string, extra: Record<string, unknown>): Record<string, unknown> {
    const tx = this.tx!;
    return {
      eventType,
      timestamp: new Date().toISOString(),
      triggerReason: trigger,
      seqNo: tx.seq++,
      transactionInfo: { transactionId: tx.id },
      evse: { id: 1, connectorId: 1 },
      offline: !this.connected || undefined,
      ...extra,
    };
  }

  /** Starts charging for a driver's token (after a remote start or an accepted RFID tap). */
  startTransaction(idTag: string): void {
    if (this.tx || this.faulted) return;
    const startedAt = new Date();
    this.tx = { idTag, startWh: Math.round(this.meterWh), startedAt, seq: 0, id: this.v16 ? undefined : crypto.randomUUID() };
    const tx = this.tx;
    this.log.info("charging", { id_tag: idTag, meter_start_wh: tx.startWh });
    if (this.v16)
      this.queue(
        "StartTransaction",
        () => ({ connectorId: 1, idTag, meterStart: tx.startWh, timestamp: startedAt.toISOString() }),
        (a) => {
          tx.id = String(a.transactionId);
          if (a.idTagInfo?.status !== "Accepted") {
            this.log.warn("the central system did not accept the start", { status: a.idTagInfo?.status });
            if (this.tx === tx) this.stopTransaction("DeAuthorized");
          }
        },
      );
    else {
      const started = this.txEvent("Started", "Authorized", {
        idToken: { idToken: idTag, type: "ISO14443" },
        meterValue: [this.energySample("Transaction.Begin")],
      });
      this.queue("TransactionEvent", () => started);
    }
    void this.sendStatus();
    this.meteredAt = Date.now();
    this.meterTimer = setInterval(() => this.meter(), this.config.OCPP_METER_INTERVAL * 1000);
  }

  /** The meter counts what the power delivered since it last counted. */
  private advanceMeter(): void {
    const now = Date.now();
    this.meterWh += (this.config.OCPP_CHARGER_POWER_KW * 1000 * Math.max(0, now - this.meteredAt)) / 3_600_000;
    this.meteredAt = now;
  }

  private meter(): void {
    const tx = this.tx;
    if (!tx) return;
    this.advanceMeter();
    const sample = { ...this.energySample("Sample.Periodic") } as { sampledValue: unknown[] };
    sample.sampledValue = [...sample.sampledValue, this.powerSample()];
    if (this.v16) this.queue("MeterValues", () => ({ connectorId: 1, transactionId: Number(tx.id), meterValue: [sample] }));
    else {
      const updated = this.txEvent("Updated", "MeterValuePeriodic", { meterValue: [sample] });
      this.queue("TransactionEvent", () => updated);
    }
  }

  /** Ends the charge: the meter's reading is the final word. */
  stopTransaction(reason: "Local" | "Remote" | "EVDisconnected" | "EmergencyStop" | "DeAuthorized"): void {
    const tx = this.tx;
    if (!tx) return;
    clearInterval(this.meterTimer);
    this.advanceMeter();
    this.tx = undefined;
    const stopWh = Math.round(this.meterWh);
    const at = new Date();
    this.log.info("charge ended", { reason, energy_kwh: ((stopWh - tx.startWh) / 1000).toFixed(3) });
    if (this.v16)
      this.queue("StopTransaction", () => ({ transactionId: Number(tx.id), meterStop: stopWh, timestamp: at.toISOString(), reason, idTag: tx.idTag }));
    else {
      this.tx = tx;
      const ended = this.txEvent("Ended", reason === "Remote" ? "RemoteStop" : reason === "EVDisconnected" ? "EVCommunicationLost" : "StopAuthorized", {
        transactionInfo: { transactionId: tx.id, stoppedReason: reason },
        meterValue: [this.energySample("Transaction.End", at)],
      });
      this.tx = undefined;
      this.queue("TransactionEvent", () => ended);
    }
    void this.sendStatus();
  }

  /** A driver's card at the reader: starts a charge (once authorised) or ends the card's own charge. */
  async tap(idTag: string): Promise<string> {
    if (this.tx?.idTag === idTag) {
      this.stopTransaction("Local");
      return "charge stopped";
    }
    if (this.tx) return "busy: another card's charge is in progress";
    const answer = (await this.client.call("Authorize", this.v16 ? { idTag } : { idToken: { idToken: idTag, type: "ISO14443" } })) as Answer;
    const status = this.v16 ? answer.idTagInfo?.status : answer.idTokenInfo?.status;
    if (status !== "Accepted") return `card refused (${status})`;
    if (!this.available) return "the charger is unavailable";
    this.plugged = true;
    this.startTransaction(idTag);
    return "charging";
  }

  plug(): void {
    this.plugged = true;
    void this.sendStatus();
  }

  unplug(): void {
    this.plugged = false;
    if (this.tx) this.stopTransaction("EVDisconnected");
    else void this.sendStatus();
  }

  setFault(faulted: boolean): void {
    this.faulted = faulted;
    if (faulted && this.tx) this.stopTransaction("EmergencyStop");
    void this.sendStatus();
  }

  get queued(): number {
    return this.outbox.length;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.meterTimer);
    clearInterval(this.heartbeatTimer);
    await this.client.close({ code: 1000, reason: "charger stopping", force: true }).catch(() => undefined);
  }
}
