/**
 * The OCPP benchmark's chargers: OCPP 1.6J frames written by hand on Bun's WebSocket, and how
 * a fleet of them connects. Like real chargers after their central system went away, each makes
 * its first attempt at a random moment within a spread, gives up on a handshake that takes too
 * long, and after a refusal (503 from a busy gateway, a timeout) waits longer each time (doubling,
 * with jitter) before trying again.
 */
import { type Summary, summarise } from "./stats.ts";

export const BENCH_PASSWORD = "bench-charger-password-0123456789";

/** One charger as the load generator plays it. */
export class BenchCharger {
  ws?: WebSocket;
  private waiting = new Map<string, (payload: any) => void>();
  private n = 0;
  register = 0;
  transactionId?: number;

  constructor(readonly id: string) {}

  connect(url: string, timeoutMs: number): Promise<void> {
    const ws = new WebSocket(`${url}/${this.id}`, {
      protocols: ["ocpp1.6"],
      headers: { authorization: `Basic ${Buffer.from(`${this.id}:${BENCH_PASSWORD}`).toString("base64")}` },
    } as unknown as string[]);
    this.ws = ws;
    ws.onmessage = (m) => {
      const frame = JSON.parse(String(m.data)) as unknown[];
      if (frame[0] === 2)
        ws.send(JSON.stringify([3, frame[1], { status: "Accepted" }])); // ChangeAvailability and the like
      else this.waiting.get(String(frame[1]))?.(frame[0] === 3 ? frame[2] : undefined);
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`${this.id}: no handshake answer within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`${this.id}: handshake refused`));
      };
    });
  }

  call(action: string, payload: unknown, timeoutMs = 60_000): Promise<any> {
    const id = `${++this.n}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.id}: no answer to ${action}`));
      }, timeoutMs);
      this.waiting.set(id, (p) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(p);
      });
      this.ws?.send(JSON.stringify([2, id, action, payload]));
    });
  }

  close(): void {
    this.ws?.close();
    this.ws = undefined;
  }
}

export interface ConnectPlan {
  /** First attempts are spread evenly at random over this many seconds (0: all at once). */
  spreadS: number;
  /** The load generator's own limit on handshakes in flight. */
  concurrency: number;
  /** A handshake not answered within this is given up (and retried). */
  handshakeTimeoutMs: number;
  /** First wait after a refusal; doubles up to `maxBackoffS`, times 0.5-1.5 at random. */
  backoffS: number;
  maxBackoffS: number;
  /** A charger not connected after this long is counted as not connected. */
  giveUpS: number;
}

export interface ConnectOutcome {
  connected: BenchCharger[];
  seconds: number;
  /** From a charger's first attempt to its first answered call. */
  perCharger?: Summary;
  attempts: number;
  refused: number;
  errors: string[];
}

/** Connects the chargers (each: handshake, then `first` answered) as the plan says. */
export async function connectFleet(
  chargers: BenchCharger[],
  url: string,
  plan: ConnectPlan,
  first: (c: BenchCharger) => Promise<unknown>,
): Promise<ConnectOutcome> {
  let inFlight = 0;
  const slotFreed: (() => void)[] = [];
  const take = async () => {
    while (inFlight >= plan.concurrency) await new Promise<void>((r) => slotFreed.push(r));
    inFlight++;
  };
  const give = () => {
    inFlight--;
    slotFreed.shift()?.();
  };
  const times: number[] = [];
  const connected: BenchCharger[] = [];
  const errors: string[] = [];
  let attempts = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    chargers.map(async (c) => {
      await Bun.sleep(Math.random() * plan.spreadS * 1000);
      const began = performance.now();
      for (let attempt = 0; performance.now() - began < plan.giveUpS * 1000; attempt++) {
        await take();
        attempts++;
        try {
          await c.connect(url, plan.handshakeTimeoutMs);
          await first(c);
          times.push(performance.now() - began);
          connected.push(c);
          return;
        } catch (err) {
          c.close();
          refused++;
          if (errors.length < 5) errors.push(String(err));
        } finally {
          give();
        }
        const wait = Math.min(plan.maxBackoffS, plan.backoffS * 2 ** attempt) * (0.5 + Math.random());
        await Bun.sleep(wait * 1000);
      }
    }),
  );
  return { connected, seconds: (performance.now() - t0) / 1000, perCharger: summarise(times), attempts, refused, errors };
}
