/**
 * Brakes on failed authentication, per source address. A source that fails to authenticate
 * (401: a wrong token, credential or key request) more than `failuresPerWindow` times in a
 * window is answered 429 with Retry-After, until the window ends, on every request that carries
 * credentials (a bearer token, or an authentication endpoint): public reads are not held back,
 * and nobody else is (a genuine CP or operator on another address goes on as before). Only
 * failures count, so an attacker cannot lock out a source that authenticates.
 *
 * Audit entries of refused credentials (security and authentication failures) are written one
 * by one for the first few of a source in a window; beyond that (a flood) they are counted instead, and one entry per source per window says how
 * many there were, of what, and how many were refused by the brake.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AuditEntry, Auditor } from "../audit/audit.ts";
import type { Logger } from "../lib/log.ts";
import { clientAddress } from "./client-address.ts";
import { errorBody } from "./error-body.ts";

export interface BrakeSettings {
  /** Failed authentications a source may have in a window before it is held back. */
  failuresPerWindow: number;
  windowMs: number;
  /** Failures of a source audited one by one per window; the rest are counted in one entry. */
  auditedPerWindow: number;
}

export const DEFAULT_BRAKES: BrakeSettings = { failuresPerWindow: 20, windowMs: 60_000, auditedPerWindow: 10 };

const MAX_SOURCES = 50_000;

/** The audit entries a flood of bad credentials writes (wrong tokens, refused authentications): those are counted past a few. */
const FLOODABLE = new Set(["security", "authentication"]);

interface SourceWindow {
  startedAt: number;
  /** Failed authentications (401s). */
  failures: number;
  /** Failure audit entries passed through. */
  audited: number;
  /** Failure audit entries counted instead, by action. */
  counted: Map<string, number>;
  /** Requests answered 429. */
  held: number;
}

export interface Brakes {
  /** Middleware for an app: holds back a source over its limit, and counts its failed authentications. */
  guard: MiddlewareHandler;
  /** The app's auditor, with a flooding source's failures counted rather than written one by one. */
  auditor: Auditor;
  /** Writes the counts of windows that ended (and, when stopping, of every window). */
  flush(all?: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Requests that present credentials: a bearer token, or a key request (a CP's or a driver's authentication). */
function presentsCredentials(c: Context): boolean {
  return c.req.header("authorization") !== undefined || (c.req.method === "POST" && /\/auth$/.test(c.req.path));
}

export function createBrakes(auditor: Auditor, log: Logger, settings: BrakeSettings = DEFAULT_BRAKES): Brakes {
  const windows = new Map<string, SourceWindow>();

  function windowOf(source: string, now: number): SourceWindow {
    // Very many sources at once (a spread-out flood): their counts are reported now, not kept.
    if (windows.size >= MAX_SOURCES) void brakes.flush(true);
    let w = windows.get(source);
    if (w && now - w.startedAt >= settings.windowMs) {
      void report(source, w);
      w = undefined;
    }
    if (!w) {
      w = { startedAt: now, failures: 0, audited: 0, counted: new Map(), held: 0 };
      windows.set(source, w);
    }
    return w;
  }

  /** Whether an audit entry is written one by one, or only counted (a source flooding failures). */
  function kept(entry: AuditEntry): boolean {
    if (entry.outcome === "success" || !entry.sourceAddress || !FLOODABLE.has(entry.eventType)) return true;
    const w = windowOf(entry.sourceAddress, Date.now());
    if (w.audited < settings.auditedPerWindow) {
      w.audited++;
      return true;
    }
    w.counted.set(entry.action, (w.counted.get(entry.action) ?? 0) + 1);
    return false;
  }

  async function report(source: string, w: SourceWindow): Promise<void> {
    windows.delete(source);
    const counted = [...w.counted.values()].reduce((a, b) => a + b, 0);
    if (counted === 0 && w.held === 0) return;
    log.warn("failed authentications from one source, counted rather than audited one by one", { source, counted, held_back: w.held });
    await auditor.record({
      eventType: "security",
      actorType: "system",
      action: "failures_counted",
      outcome: "failure",
      reason: `${counted + w.held} more failed or held-back requests from ${source} in ${Math.round(settings.windowMs / 1000)} s, counted rather than audited one by one`,
      sourceAddress: source,
      details: {
        window_start: new Date(w.startedAt).toISOString(),
        window_end: new Date(w.startedAt + settings.windowMs).toISOString(),
        failures_by_action: Object.fromEntries(w.counted),
        held_back: w.held,
      },
    });
  }

  const timer = setInterval(() => void brakes.flush(), Math.max(1000, settings.windowMs / 4));
  timer.unref?.();

  const brakes: Brakes = {
    guard: async (c, next) => {
      const source = clientAddress(c) ?? "unknown";
      if (!presentsCredentials(c)) return next();
      const now = Date.now();
      const w = windowOf(source, now);
      if (w.failures >= settings.failuresPerWindow) {
        w.held++;
        const retryAfterS = Math.max(1, Math.ceil((w.startedAt + settings.windowMs - now) / 1000));
        return c.json(errorBody("too_many_requests", `too many failed authentications from ${source}; try again in ${retryAfterS} s`), 429, {
          "retry-after": String(retryAfterS),
        });
      }
      await next();
      if (c.res.status === 401) windowOf(source, Date.now()).failures++;
    },

    auditor: {
      async record(entry: AuditEntry) {
        if (kept(entry)) return auditor.record(entry);
      },
      async recordMany(entries: AuditEntry[]) {
        const keep = entries.filter(kept);
        if (keep.length) return auditor.recordMany(keep);
      },
    },

    async flush(all = false) {
      const now = Date.now();
      const ended = [...windows].filter(([, w]) => all || now - w.startedAt >= settings.windowMs);
      await Promise.all(ended.map(([source, w]) => report(source, w)));
    },

    async stop() {
      clearInterval(timer);
      await brakes.flush(true);
    },
  };
  return brakes;
}
