/**
 * Opens batches of AES-GCM messages on a thread of their own, beside the thread that applies
 * them. Central's thread is what limits how fast it drains a backlog, and opening (the cipher's
 * setup, decryption and the tag) was about a sixth of its work per message; on its own thread
 * that work overlaps the rest (docs/benchmarks.md). What the thread answers is only each
 * message's plaintext or its refusal: every check and every decision stays with the caller.
 *
 * Failures: a batch smaller than `minBatch` is opened in place (a crossing costs more than it
 * saves); the thread failing to start, dying, answering with a list that does not match the
 * batch, or not answering within `answerWithinMs` makes every batch it held open in place
 * instead, and the next ones too for a while (longer after each failure in a row), then a new
 * thread is started. A batch is never lost and never waits on a thread that is gone.
 */

import { createCipheriv, randomBytes } from "node:crypto";
import type { Worker as BunWorker } from "bun";
import type { Logger } from "../lib/log.ts";
import { type GcmSealed, gcmOpen, type JoinedTexts, KEY_BYTES, NONCE_BYTES, packGcm, splitTexts } from "./gcm.ts";

/** Opens sealed messages: each one's plaintext, or null where its tag did not match. */
export interface GcmOpener {
  open(messages: GcmSealed[]): Promise<(string | null)[]>;
  close(): Promise<void>;
}

/** Opening in place, on the caller's thread. */
export function openInPlace(messages: GcmSealed[]): (string | null)[] {
  return messages.map((m) => gcmOpen(m) ?? null);
}

export const inPlaceOpener: GcmOpener = {
  open: async (messages) => openInPlace(messages),
  close: async () => {},
};

export interface OpeningThreadOptions {
  /** Fewest messages sent to the thread (default 64; Central's own: CENTRAL_OPENING_THREAD_MIN_BATCH). */
  minBatch?: number;
  /** Longest wait for the thread's answer before it counts as failed (default 10 s). */
  answerWithinMs?: number;
  /** How long batches open in place after the thread failed (default 5 s; doubled for each failure in a row, up to 5 minutes). */
  restartAfterMs?: number;
  /** The thread's code (tests point it elsewhere). */
  workerUrl?: string | URL;
}

const MAX_RESTART_AFTER_MS = 5 * 60_000;

/**
 * The thread's code: next to this file when run from source. Bundled (the compiled binary, whose
 * build names it an entry point: scripts/build.ts) every module's URL is the entry point's, at
 * the root of src/.
 */
const BUNDLED = import.meta.path === Bun.main;
const WORKER_URL = new URL(BUNDLED ? "./crypto/opening-worker.ts" : "./opening-worker.ts", import.meta.url);

interface Pending {
  messages: GcmSealed[];
  resolve: (texts: (string | null)[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class OpeningThread implements GcmOpener {
  private worker: BunWorker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private downUntil = 0;
  /** Failures since the thread last answered. */
  private failuresInARow = 0;
  private closed = false;
  /** Messages opened on the thread and in place (its metrics, and the tests'). */
  readonly counts = { thread: 0, inPlace: 0, failures: 0 };
  private readonly minBatch: number;
  private readonly answerWithinMs: number;
  private readonly restartAfterMs: number;
  private readonly workerUrl: string | URL;

  constructor(
    private readonly log: Logger,
    options: OpeningThreadOptions = {},
  ) {
    this.minBatch = options.minBatch ?? 64;
    this.answerWithinMs = options.answerWithinMs ?? 10_000;
    this.restartAfterMs = options.restartAfterMs ?? 5_000;
    this.workerUrl = options.workerUrl ?? WORKER_URL;
  }

  open(messages: GcmSealed[]): Promise<(string | null)[]> {
    if (messages.length < this.minBatch) return Promise.resolve(this.inPlace(messages));
    return this.onThread(messages);
  }

  /**
   * Starts the thread and opens a message of its own there: whether the thread works (Central
   * says so when it starts). When it does not, batches open in place as after any failure.
   */
  async check(): Promise<boolean> {
    const key = randomBytes(KEY_BYTES);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    const text = `opening thread check ${nonce.toString("hex")}`;
    const ct = Buffer.concat([cipher.update(text, "utf8"), cipher.final(), cipher.getAuthTag()]);
    const before = this.counts.thread;
    const [answer] = await this.onThread([{ key, bytes: Buffer.concat([nonce, ct]), aadLength: 0 }]);
    return answer === text && this.counts.thread > before;
  }

  private onThread(messages: GcmSealed[]): Promise<(string | null)[]> {
    const worker = !this.closed && Date.now() >= this.downUntil ? (this.worker ?? this.start()) : undefined;
    if (!worker) return Promise.resolve(this.inPlace(messages));
    const id = this.nextId++;
    const buffer = packGcm(messages);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fail(worker, `no answer within ${this.answerWithinMs} ms`), this.answerWithinMs);
      this.pending.set(id, { messages, resolve, timer });
      worker.postMessage({ id, buffer, count: messages.length }, [buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.settleInPlace();
    worker?.terminate();
  }

  private inPlace(messages: GcmSealed[]): (string | null)[] {
    this.counts.inPlace += messages.length;
    return openInPlace(messages);
  }

  private start(): BunWorker | undefined {
    let worker: BunWorker;
    try {
      worker = new Worker(this.workerUrl) as unknown as BunWorker;
    } catch (err) {
      this.fail(undefined, err instanceof Error ? err.message : String(err));
      return undefined;
    }
    worker.addEventListener("message", (event) => {
      const answer = (event as MessageEvent<{ id: number } & JoinedTexts>).data;
      const waiting = this.pending.get(answer?.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      clearTimeout(waiting.timer);
      const texts = splitTexts(answer, waiting.messages.length);
      if (!texts) {
        waiting.resolve(this.inPlace(waiting.messages));
        return this.fail(worker, `an answer that is not the plaintexts of ${waiting.messages.length} messages`);
      }
      this.counts.thread += texts.length;
      this.failuresInARow = 0;
      waiting.resolve(texts);
    });
    worker.addEventListener("error", (event) => this.fail(worker, (event as ErrorEvent).message || "it failed"));
    worker.addEventListener("close", () => this.fail(worker, "it stopped"));
    worker.unref(); // never what keeps a process running
    this.worker = worker;
    return worker;
  }

  /** The thread is gone or stuck: what it held is opened in place, and so is what comes next for a while. */
  private fail(worker: BunWorker | undefined, reason: string): void {
    if (worker !== this.worker || this.closed) return;
    this.worker = undefined;
    worker?.terminate();
    this.counts.failures++;
    const pause = Math.min(this.restartAfterMs * 2 ** this.failuresInARow++, MAX_RESTART_AFTER_MS);
    this.downUntil = Date.now() + pause;
    this.log.warn("the opening thread failed; opening on the main thread meanwhile", { reason, retry_in_ms: pause });
    this.settleInPlace();
  }

  private settleInPlace(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) {
      clearTimeout(w.timer);
      w.resolve(this.inPlace(w.messages));
    }
  }
}
