/**
 * One charger's connection, as the gateway holds it: it plays the charger's engine and monitor
 * on the bus. Its events are sealed with the charger's channel key (held when it connected)
 * and leave in order; Central's commands for it arrive here opened. Calls from the charger are
 * handled one at a time, in the order they came (ocpp-rpc would run them side by side); calls
 * to it go one at a time too (ocpp-rpc's call concurrency 1).
 */
import type RPCServerClient from "ocpp-rpc/lib/server-client";
import { type CpCommand, type CpEvent, cpCommandSchema, nowIso } from "../../bus/messages.ts";
import { isKeyRevokedNotice } from "../../bus/security-notice.ts";
import type { CpChannel } from "../../cp/channel.ts";
import { SUPERSEDED_BY_AUTHENTICATION } from "../../db/repos/cp-keys.ts";
import type { OcppTransactionRow } from "../../db/schema/index.ts";
import { validate } from "../../lib/parsed.ts";
import type { Subprotocol } from "./admission.ts";
import type { GatewayContext } from "./context.ts";
import { findTransaction } from "./transactions.ts";

/** What the gateway asks of a charger, in the charger's own version of OCPP. */
export interface Dialect {
  /** Starts a charge for a driver's token; true when the charger accepted. */
  remoteStart(idToken: string, remoteStartId: number): Promise<boolean>;
  /** Stops a transaction; true when the charger accepted. */
  remoteStop(ocppTxId: string): Promise<boolean>;
  /** Opens or closes the charger to new charges; the charger's answer (Accepted, Scheduled, Rejected). */
  changeAvailability(available: boolean): Promise<string | undefined>;
  /** The longest driver token this version carries. */
  readonly maxTokenLength: number;
}

export interface LinkOptions {
  ctx: GatewayContext;
  client: RPCServerClient;
  cpId: string;
  subprotocol: Subprotocol;
  /** The charger's channel: its key and this gateway's sequence under it (kept across its connections here). */
  channel: CpChannel;
  pricePerKwh: number;
}

export class ChargerLink {
  readonly cpId: string;
  readonly client: RPCServerClient;
  readonly subprotocol: Subprotocol;
  /** This connection's number (ocpp_chargers.connection_seq), once recorded. */
  connection = 0;
  readonly pricePerKwh: number;
  readonly channel: CpChannel;
  dialect?: Dialect;
  private inbound: Promise<unknown> = Promise.resolve();
  private commands: Promise<unknown> = Promise.resolve();
  private timer?: ReturnType<typeof setInterval>;
  private faulted = new Set<number>();
  private reportedHealth?: "OK" | "KO";
  /** What the charger was last told about its availability (undefined: nothing yet). */
  private toldAvailable?: boolean;
  private closed = false;
  readonly connectedAt = new Date();
  /** Open transactions of this connection as read or changed here, by the charger's id for them. */
  private transactions = new Map<string, OcppTransactionRow>();

  constructor(private o: LinkOptions) {
    this.cpId = o.cpId;
    this.client = o.client;
    this.subprotocol = o.subprotocol;
    this.pricePerKwh = o.pricePerKwh;
    this.channel = o.channel;
  }

  get ctx(): GatewayContext {
    return this.o.ctx;
  }

  get keyId(): string {
    return this.channel.keyId;
  }

  get version(): "1.6" | "2.0.1" {
    return this.subprotocol === "ocpp1.6" ? "1.6" : "2.0.1";
  }

  /** Announces the charger to Central and keeps telling it the charger is there while the socket lives. */
  start(): void {
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), this.ctx.config.OCPP_CENTRAL_HEARTBEAT_INTERVAL * 1000);
    this.timer.unref?.();
  }

  /** Calls the charger (one call at a time, ocpp-rpc queues the rest); the answer as a plain object. */
  async call(method: string, params: Record<string, unknown>): Promise<{ status?: string; [field: string]: unknown }> {
    return ((await this.client.call(method, params)) ?? {}) as { status?: string };
  }

  /** Answers the charger's `method` calls with `handler`, one call at a time in arrival order. */
  on<P>(method: string, handler: (params: P) => object | Promise<object>): void {
    this.client.handle(method, ({ params }) => this.serial(async () => (await handler(params as P)) as Record<string, unknown>));
  }

  /**
   * Notifications evnet has no use for yet but a conforming central system must accept (a
   * charger retries, or gives up on us, when they are refused): answered, and logged.
   */
  acknowledge(methods: string[]): void {
    for (const method of methods)
      this.on(method, (params: Record<string, unknown>) => {
        this.ctx.log.info("charger notification", { cp_id: this.cpId, method, params: JSON.stringify(params).slice(0, 300) });
        return {};
      });
  }

  /**
   * The charger's transaction by its id for it: an open one is kept for this connection (its
   * MeterValues need not read it again each time), anything else is read from the database.
   */
  async transaction(ocppTxId: string): Promise<OcppTransactionRow | undefined> {
    const kept = this.transactions.get(ocppTxId);
    if (kept) return kept;
    const row = await findTransaction(this.ctx.db, this.cpId, ocppTxId);
    if (row) this.keepTransaction(row);
    return row;
  }

  /** Keeps a transaction's row while it is open (and forgets it once it is not). */
  keepTransaction(row: OcppTransactionRow): void {
    if (row.status === "open") this.transactions.set(row.ocppTxId, row);
    else this.transactions.delete(row.ocppTxId);
  }

  /** Runs a call from the charger after the ones before it have been answered. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.inbound.then(work, work);
    this.inbound = run.catch(() => undefined);
    return run;
  }

  /** Seals an event for Central now (this connection's key) and queues it. */
  publish(event: CpEvent): void {
    if (this.closed && event.type === "heartbeat") return;
    const sealed = this.channel.seal(event);
    this.ctx.publisher.send(this.ctx.topics.cpEvents, () => sealed, event.type === "telemetry", event.type === "heartbeat" ? `hb:${this.cpId}` : undefined);
  }

  private heartbeat(): void {
    this.publish({
      type: "heartbeat",
      interval_s: this.ctx.config.OCPP_CENTRAL_HEARTBEAT_INTERVAL,
      engine: this.reportedHealth ?? "UNKNOWN",
      at: nowIso(),
    });
  }

  /** A connector's status: any connector (or the charger, connector 0) faulted makes the CP broken. */
  connectorStatus(connectorId: number, faulted: boolean, detail: string): void {
    if (faulted) this.faulted.add(connectorId);
    else this.faulted.delete(connectorId);
    this.reportHealth(detail);
  }

  /** Tells Central the charger's health when it changed, or again when `force` (after a fault-ended session). */
  reportHealth(detail: string, force = false): void {
    const health = this.faulted.size > 0 ? "KO" : "OK";
    if (health === this.reportedHealth && !force) return;
    this.reportedHealth = health;
    this.publish({ type: "engine_status", status: health, detail: detail.slice(0, 500), at: nowIso() });
  }

  /**
   * A newer connection of this charger took over here. It shares this one's key, so what this
   * one would say for itself now (a start its dead socket could not take) must not reach Central.
   */
  get replaced(): boolean {
    const current = this.ctx.links.get(this.cpId);
    return current !== undefined && current !== this;
  }

  get isFaulted(): boolean {
    return this.faulted.size > 0;
  }

  /** Central's command for this charger, opened: applied after the ones before it. */
  command(payload: unknown): void {
    this.commands = this.commands.then(() => this.onCommand(payload)).catch((err) => this.ctx.log.error("a command failed", { cp_id: this.cpId, err }));
  }

  private async onCommand(payload: unknown): Promise<void> {
    if (isKeyRevokedNotice(payload)) {
      // Superseded: the charger authenticated again since, at another gateway (the newer socket lives there).
      const elsewhere = payload.reason === SUPERSEDED_BY_AUTHENTICATION;
      this.ctx.log.warn(elsewhere ? "the charger connected elsewhere: closing this connection" : "Central revoked the charger's key: closing its connection", {
        cp_id: this.cpId,
        reason: payload.reason,
      });
      this.ctx.keys.forget(this.cpId, this.keyId);
      this.close(1008, elsewhere ? "connected elsewhere" : "key revoked: connect again");
      return;
    }
    const command = validate(cpCommandSchema, payload);
    if (!command.ok) {
      this.ctx.log.warn("ignored an unknown command", { cp_id: this.cpId, reason: command.reason });
      return;
    }
    await this.apply(command.value);
  }

  private async apply(c: CpCommand): Promise<void> {
    const { remoteStart, remoteStop } = await import("./remote.ts");
    if (c.type === "start_supply") return remoteStart(this, c);
    if (c.type === "stop_supply") return remoteStop(this, c);
    // An OCPP charger reports its own transactions (a Stop with its meter, hours later if it was
    // offline): its heartbeats say nothing of a supply, so Central does not ask, and is not answered.
    if (c.type === "report_state") return;
    await this.setAvailability(c.available, c.reason);
  }

  /** Tells the charger whether it may start charges, when that changed. */
  async setAvailability(available: boolean, reason: string): Promise<void> {
    if (!this.dialect || this.toldAvailable === available) return;
    this.toldAvailable = available;
    try {
      const status = await this.dialect.changeAvailability(available);
      this.ctx.log.info("availability changed", { cp_id: this.cpId, available, reason, answer: status });
      if (status === "Rejected") this.toldAvailable = undefined;
    } catch (err) {
      this.toldAvailable = undefined;
      this.ctx.log.warn("the charger did not take an availability change", { cp_id: this.cpId, available, err });
    }
  }

  /**
   * Closes the socket with a close frame that says why (the charger's log shows it); calls still
   * waiting for the charger's answer fail now. A peer that never answers the close frame is cut
   * off by the WebSocket's own close timeout.
   */
  close(code = 1000, reason = ""): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    void this.client.close({ code, reason, awaitPending: false }).catch(() => undefined);
  }

  /** The socket closed (either side): stop speaking for the charger. */
  closedByPeer(): void {
    this.closed = true;
    clearInterval(this.timer);
  }
}
