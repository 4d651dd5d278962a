/**
 * A driver's connection to Central over the bus: sends charge and stop requests (plain JSON,
 * keyed by the CP), follows the answers, live progress and tickets addressed to this driver.
 * A request not answered in a few seconds is sent again with the same request id (Central
 * answers a repeated id with the same decision), so an answer lost while the subscription was
 * starting, or while the broker was away, is asked for again.
 */

import type { Bus, BusMessage, Subscription } from "../../bus/bus.ts";
import { keepSubscribed } from "../../bus/keep-subscribed.ts";
import {
  type Authorised,
  type DriverUpdate,
  driverUpdateSchema,
  nowIso,
  type Progress,
  parseJson,
  type Refused,
  type Stopping,
  type TicketMessage,
} from "../../bus/messages.ts";
import { RetryingPublisher } from "../../bus/retrying-publisher.ts";
import type { Topics } from "../../bus/topics.ts";
import { KnownError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { groupName } from "../group-names.ts";

export interface CurrentSession {
  sessionId: string;
  cpId: string;
  pricePerKwh: number;
  authorisedAt: number;
  progress?: Progress;
  stopping?: Stopping;
}

export class NoAnswerError extends KnownError {
  override name = "NoAnswerError";
}

type Listener = (u: DriverUpdate) => void;

export interface DriverClientOptions {
  driverId: string;
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
      async (batch) => this.onUpdates(batch),
      this.o.log,
    );
    this.subscription = kept;
    await Promise.race([kept.ready, Bun.sleep(15_000)]);
  }

  onUpdate(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private onUpdates(batch: BusMessage[]): void {
    for (const m of batch) {
      if (m.key !== this.o.driverId) continue;
      const parsed = parseJson(driverUpdateSchema, m.value);
      if (!parsed.ok) {
        this.o.log.warn("ignored an unreadable update", { reason: parsed.reason });
        continue;
      }
      this.track(parsed.value);
      for (const l of this.listeners) l(parsed.value);
    }
  }

  private track(u: DriverUpdate): void {
    const c = this.current;
    if (u.type === "authorised" && (!c || c.sessionId !== u.session_id))
      this.current = { sessionId: u.session_id, cpId: u.cp_id, pricePerKwh: u.price_per_kwh, authorisedAt: Date.now() };
    else if (u.type === "progress" && c?.sessionId === u.session_id) c.progress = u;
    else if (u.type === "stopping" && c?.sessionId === u.session_id) c.stopping = u;
    else if (u.type === "ticket") {
      if (!this.tickets.some((t) => t.session_id === u.session_id)) this.tickets.push(u);
      if (c?.sessionId === u.session_id) this.current = undefined;
    }
  }

  private publish(cpId: string, body: object): void {
    const value = JSON.stringify(body);
    this.publisher.send(this.o.topics.driverRequests, () => ({ key: cpId, value }));
  }

  /**
   * Sends `body` until `answered` picks an update, re-sending every retry interval;
   * rejects with NoAnswerError after `timeoutMs`.
   */
  private exchange<T>(cpId: string, body: object, answered: (u: DriverUpdate) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const off = this.onUpdate((u) => {
        const hit = answered(u);
        if (hit !== undefined) finish(() => resolve(hit));
      });
      const send = () => this.publish(cpId, { ...body, at: nowIso() });
      const retry = setInterval(send, this.o.retryMs);
      const timeout = setTimeout(() => finish(() => reject(new NoAnswerError(`no answer from Central within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
      function finish(then: () => void) {
        off();
        clearInterval(retry);
        clearTimeout(timeout);
        then();
      }
      send();
    });
  }

  /** Asks to charge at a CP: resolves with Central's authorisation or refusal. */
  requestCharge(cpId: string, timeoutMs: number): Promise<Authorised | Refused> {
    const requestId = crypto.randomUUID();
    return this.exchange(
      cpId,
      { type: "charge_request", request_id: requestId, driver_id: this.o.driverId, cp_id: cpId },
      (u) => ((u.type === "authorised" || u.type === "refused") && u.request_id === requestId ? u : undefined),
      timeoutMs,
    );
  }

  /**
   * Asks to stop the current session (or a named one) and waits for its ticket. A refusal
   * (not your session, no session) resolves too.
   */
  stop(timeoutMs: number, target?: { sessionId: string; cpId: string }): Promise<TicketMessage | Refused> {
    const session = target ?? (this.current ? { sessionId: this.current.sessionId, cpId: this.current.cpId } : undefined);
    if (!session) return Promise.reject(new Error("you have no charging session in progress"));
    const requestId = crypto.randomUUID();
    return this.exchange(
      session.cpId,
      { type: "stop_request", request_id: requestId, driver_id: this.o.driverId, cp_id: session.cpId, session_id: session.sessionId },
      (u) => (u.type === "ticket" && u.session_id === session.sessionId ? u : u.type === "refused" && u.request_id === requestId ? u : undefined),
      timeoutMs,
    );
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
