/**
 * Live updates without help from other roles: the database is the source of truth (the API may
 * run on another machine than Central), so one poller per API process reads a cheap fingerprint
 * every `intervalMs` and, when it changed, reads a snapshot and hands it to every listener. It
 * polls only while someone listens.
 */
import type { Db } from "../../../db/client.ts";
import type { Logger } from "../../../lib/log.ts";
import type { ServicesHealthCache } from "../health/services.ts";
import type { ServicesHealth, Snapshot } from "../shapes.ts";
import { dataFingerprint, healthFingerprint } from "./fingerprint.ts";
import { buildSnapshot } from "./snapshot.ts";

export const LIVE_POLL_MS = 500;

export type LiveEvent =
  | { kind: "snapshot"; snapshot: Snapshot }
  /** The data cannot be read (database down): only the services' health is current. */
  | { kind: "health"; services: ServicesHealth; error: string };

export type LiveListener = (event: LiveEvent) => void;

export interface LiveHub {
  /** Listens from now on; returns the function that stops listening. */
  subscribe(listener: LiveListener): () => void;
  /** The picture now, read afresh (a new client's first event). */
  current(): Promise<LiveEvent>;
  listeners(): number;
  /** Stops polling for good (the role is stopping); streams still open get nothing more. */
  close(): void;
}

export function createLiveHub(deps: {
  db: Db;
  health: ServicesHealthCache;
  log: Logger;
  intervalMs?: number;
  /** Changes when a session's live figures do (src/roles/api/live/figures.ts). */
  liveVersion?: () => number;
}): LiveHub {
  const intervalMs = deps.intervalMs ?? LIVE_POLL_MS;
  const listeners = new Set<LiveListener>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastFingerprint = "";
  let failing = false;
  let closed = false;

  async function read(): Promise<LiveEvent> {
    const services = await deps.health.latest();
    try {
      return { kind: "snapshot", snapshot: await buildSnapshot(deps.db, services) };
    } catch (err) {
      deps.log.debug("live snapshot could not be read", { err });
      return { kind: "health", services, error: "the database cannot be read: data shown may be out of date" };
    }
  }

  /** One listener that fails (a stream that broke mid-write) neither stops the others nor the poller. */
  function tell(listener: LiveListener, event: LiveEvent): void {
    try {
      listener(event);
    } catch (err) {
      deps.log.warn("a live listener failed; the others go on", { err });
    }
  }

  async function tick(): Promise<void> {
    try {
      const services = await deps.health.latest();
      let fingerprint: string;
      try {
        fingerprint = `${await dataFingerprint(deps.db)}#${healthFingerprint(services)}#${deps.liveVersion?.() ?? ""}`;
      } catch {
        fingerprint = `db-down#${healthFingerprint(services)}`;
      }
      if (fingerprint === lastFingerprint) return;
      lastFingerprint = fingerprint;
      const event = await read();
      if (event.kind === "health" && !failing) deps.log.warn("live updates: database unreadable, sending health only");
      if (event.kind === "snapshot" && failing) deps.log.info("live updates: database readable again");
      failing = event.kind === "health";
      for (const listener of listeners) tell(listener, event);
    } catch (err) {
      deps.log.warn("live update failed", { err });
    }
  }

  function schedule(): void {
    if (listeners.size === 0 || closed) {
      timer = undefined;
      return;
    }
    timer = setTimeout(async () => {
      await tick();
      schedule();
    }, intervalMs);
  }

  return {
    subscribe(listener) {
      if (closed) return () => {};
      listeners.add(listener);
      if (!timer) {
        lastFingerprint = ""; // the first tick after a quiet spell always sends
        schedule();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearTimeout(timer);
          timer = undefined;
        }
      };
    },
    current: read,
    listeners: () => listeners.size,
    close() {
      closed = true;
      listeners.clear();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
