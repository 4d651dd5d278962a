/**
 * A driver's connection to Central over the bus: sends charge and stop requests (sealed with the
 * driver's key, keyed by the CP), follows the answers, live progress and tickets Central seals
 * for this driver (anything else on the topic is left unread or refused).
 * A request not answered in a few seconds is sent again with the same request id (Central
 * answers a repeated id with the same decision), so an answer lost while the subscription was
 * starting, or while the broker was away, is asked for again.
 *
 * A stop request carries a proof made with the session's stop token (from the authorisation),
 * so the charger itself stops on it even while Central is down; the ticket follows when Central
 * reads the charger's final reading. While the broker itself cannot be reached nothing can be
 * asked of anyone: the user is told, the request waits and goes out when the broker is back,
 * and the time it waited does not count against the answer's timeout.
 */
import type { Bus, BusMessage, Subscription } from "../../bus/bus.ts";
import { eachMessage } from "../../bus/each-message.ts";
import { keepSubscribed } from "../../bus/keep-subscribed.ts";
import {
  type Authorised,
  type DriverUpdate,
  driverUpdateSchema,
  nowIso,
  type Progress,
  type Refused,
  type Stopping,
  type TicketMessage,
} from "../../bus/messages.ts";
import { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import type { Topics } from "../../bus/topics.ts";
import { stopHeaders, stopProof } from "../../crypto/stop-token.ts";
import { KnownError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { validate } from "../../lib/parsed.ts";
import { groupName } from "../group-names.ts";
import type { DriverChannel } from "./channel.ts";

export interface CurrentSession {
  sessionId: string;
  cpId: string;
  pricePerKwh: number;
  authorisedAt: number;
  /** Proves this driver's stop requests to the charger. */
  stopToken?: string;
  progress?: Progress;
  stopping?: Stopping;
}

export class NoAnswerError extends KnownError {
  override name = "NoAnswerError";
}

type Listener = (u: DriverUpdate) => void;

/** Told what the user should know while a request waits (the broker is away, Central is silent). */
export type Notice = (text: string) => void;

/** The session a stop request is for. */
export interface StopTarget {
  sessionId: string;
  cpId: string;
  stopToken?: string;
}

/** How often a waiting request checks whether the broker takes messages. */
const WATCH_MS = 250;

export interface DriverClientOptions {
  driverId: string;
  /** Seals this driver's requests and opens what Central sends it. */
  channel: DriverChannel;
  bus: Bus;
  topics: Topics;
  topicPrefix: string;
  log: Logger;
  retryMs: number;
}

export class DriverClient {
  private publisher: RetryingPublisher;
  private subscription?: Subscription;
  private listeners = new Set<Listener>();
  current?: CurrentSession;
  /** Tickets received while this app runs, newest last. */
  readonly tickets: TicketMessage[] = [];

  constructor(private o: DriverClientOptions) {
    this.publisher = new RetryingPublisher(o.bus, o.log);
  }

  get driverId(): string {
    return this.o.driverId;
  }

  /** Follows this driver's updates; with the broker away at start it keeps trying (requests wait too). */
  async listen(): Promise<void> {
    const kept = keepSubscribed(
      this.o.bus,
      { topics: [this.o.topics.driverUpdates], groupId: groupName(this.o.topicPrefix, "driver", this.o.driverId), from: "latest" },
      (batch) => this.onUpdates(batch),
      this.o.log,
    );
    this.subscription = kept;
    await Promise.race([kept.ready, Bun.sleep(15_000)]);
  }

  onUpdate(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Never throws: an update that cannot be opened, read or handled is logged and the next ones go on. */
  private onUpdates(batch: BusMessage[]): Promise<void> {
    return eachMessage(
      batch.filter((m) => m.key === this.o.driverId),
      (m) => this.handleUpdate(m),
      this.o.log,
    );
  }

  private async handleUpdate(m: BusMessage): Promise<void> {
    const opened = await this.o.channel.open(m);
    if (!opened.ok) {
      this.o.log.warn("refused an update", { code: opened.code, reason: opened.reason });
      return;
    }
    const parsed = validate(driverUpdateSchema, opened.payload);
    if (!parsed.ok) {
      this.o.log.warn("ignored an unreadable update", { reason: parsed.reason });
      return;
    }
    this.track(parsed.value);
    for (const l of this.listeners) {
      try {
        l(parsed.value);
      } catch (err) {
        this.o.log.error("an update listener failed", { err });
      }
    }
  }

  private track(u: DriverUpdate): void {
    const c = this.current;
    if (u.type === "authorised" && (!c || c.sessionId !== u.session_id))
      this.current = { sessionId: u.session_id, cpId: u.cp_id, pricePerKwh: u.price_per_kwh, authorisedAt: Date.now(), stopToken: u.stop_token };
    else if (u.type === "progress" && c?.sessionId === u.session_id) c.progress = u;
    else if (u.type === "stopping" && c?.sessionId === u.session_id) c.stopping = u;
    else if (u.type === "ticket") {
      const known = this.tickets.findIndex((t) => t.session_id === u.session_id);
      if (known < 0) this.tickets.push(u);
      else if (u.corrected) this.tickets[known] = u; // the charger's final reading came late: this one bills it
      if (c?.sessionId === u.session_id) this.current = undefined;
    }
  }

  private publish(cpId: string, body: object): void {
    // A stop with its proof tells the charger too, which cannot open what is sealed for Central.
    const b = body as { type?: string; session_id?: string; request_id?: string; stop_proof?: string };
    const stop = b.type === "stop_request" && b.session_id && b.request_id && b.stop_proof;
    const headers = stop ? stopHeaders({ sessionId: b.session_id!, requestId: b.request_id!, proof: b.stop_proof! }) : undefined;
    this.publisher.send(this.o.topics.driverRequests, () => ({ ...this.o.channel.seal(body, cpId), ...(headers && { headers }) }));
  }

  /**
   * Sends `body` until `answered` picks an update, re-sending every retry interval while the
   * broker takes messages; rejects with NoAnswerError once `timeoutMs` passed with the broker
   * reachable (the time it was away does not count: the request could not leave). `notice`
   * hears when the broker is away and when it is back.
   */
  private exchange<T>(cpId: string, body: object, answered: (u: DriverUpdate) => T | undefined, timeoutMs: number, notice?: Notice): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.onUpdate((u) => {
        const hit = answered(u);
        if (hit !== undefined) finish(() => resolve(hit));
      });
      const send = () => this.publish(cpId, { ...body, at: nowIso() });
      // Copies would only pile up behind the first while the broker is away.
      const retry = setInterval(() => this.publisher.pending === 0 && send(), this.o.retryMs);
      let waited = 0;
      let last = Date.now();
      let away = false;
      const watch = setInterval(() => {
        const now = Date.now();
        if (this.publisher.failing !== away) {
          away = this.publisher.failing;
          notice?.(
            away
              ? "cannot reach the charging network (Kafka) now: nothing can be asked of Central or the charger; your request waits and is sent when it is back"
              : "the charging network is reachable again: your request was sent",
          );
        }
        if (!away) waited += now - last;
        last = now;
        if (waited >= timeoutMs) finish(() => reject(new NoAnswerError(`no answer from Central within ${Math.round(timeoutMs / 1000)} s`)));
      }, WATCH_MS);
      function finish(then: () => void) {
        off();
        clearInterval(retry);
        clearInterval(watch);
        then();
      }
      send();
    });
  }

  /** Asks to charge at a CP: resolves with Central's authorisation or refusal. */
  requestCharge(cpId: string, timeoutMs: number, notice?: Notice): Promise<Authorised | Refused> {
    const requestId = crypto.randomUUID();
    return this.exchange(
      cpId,
      { type: "charge_request", request_id: requestId, driver_id: this.o.driverId, cp_id: cpId },
      (u) => ((u.type === "authorised" || u.type === "refused") && u.request_id === requestId ? u : undefined),
      timeoutMs,
      notice,
    );
  }

  /**
   * Asks to stop the current session (or a named one) and waits for its ticket. A refusal
   * (not your session, no session) resolves too. With the session's stop token the request
   * carries a proof the charger checks itself: it stops at once, Central or not.
   */
  stop(timeoutMs: number, target?: StopTarget, notice?: Notice): Promise<TicketMessage | Refused> {
    const c = this.current;
    const session = target ?? (c ? { sessionId: c.sessionId, cpId: c.cpId, stopToken: c.stopToken } : undefined);
    if (!session) return Promise.reject(new Error("you have no charging session in progress"));
    const token = session.stopToken ?? (c?.sessionId === session.sessionId ? c.stopToken : undefined);
    const requestId = crypto.randomUUID();
    const proof = token ? { stop_proof: stopProof(token, session.sessionId, requestId) } : {};
    // Central silent for a while: say what happens meanwhile, once.
    let heard = false;
    const silent = setTimeout(() => {
      if (heard || this.publisher.failing) return;
      notice?.(
        token
          ? "Central has not answered yet: the charger stops on your request by itself, and your ticket comes when Central answers"
          : "Central has not answered yet: your request is sent again until it does",
      );
    }, this.o.retryMs * 3);
    const offHeard = this.onUpdate((u) => {
      if ("session_id" in u && u.session_id === session.sessionId && (u.type === "stopping" || u.type === "progress")) heard = true;
    });
    return this.exchange(
      session.cpId,
      { type: "stop_request", request_id: requestId, driver_id: this.o.driverId, cp_id: session.cpId, session_id: session.sessionId, ...proof },
      (u) => (u.type === "ticket" && u.session_id === session.sessionId ? u : u.type === "refused" && u.request_id === requestId ? u : undefined),
      timeoutMs,
      notice,
    ).finally(() => {
      clearTimeout(silent);
      offHeard();
    });
  }

  /** Resolves with the session's ticket when it ends by itself (unplug, fault, maximum duration...). */
  ticketOf(sessionId: string): { promise: Promise<TicketMessage>; cancel(): void } {
    let off = () => {};
    const promise = new Promise<TicketMessage>((resolve) => {
      const known = this.tickets.find((t) => t.session_id === sessionId);
      if (known) return resolve(known);
      off = this.onUpdate((u) => {
        if (u.type === "ticket" && u.session_id === sessionId) {
          off();
          resolve(u);
        }
      });
    });
    return { promise, cancel: () => off() };
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    await this.publisher.drain(2000);
    this.publisher.close();
  }
}
