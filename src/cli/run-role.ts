/**
 * Runs a long-lived role: starts it, then stops it cleanly on SIGINT/SIGTERM, forcing the
 * exit if stopping takes longer than `forceAfterMs` (a hung broker must not hang shutdown).
 */
import { createLogger } from "../lib/log.ts";

export interface Running {
  stop(): Promise<void>;
  /** Resolves when the role ends by itself (a driver's auto mode finishing its file). */
  done?: Promise<number | undefined> | Promise<void>;
}

export async function runRole(name: string, start: () => Promise<Running>, forceAfterMs = 10_000): Promise<void> {
  const log = createLogger(name);
  const running = await start();
  let stopping = false;
  const stop = async (signal: string, code: number) => {
    if (stopping) {
      log.warn("second signal: exiting now");
      process.exit(130);
    }
    stopping = true;
    log.info("stopping", { signal });
    const timer = setTimeout(() => {
      log.error("stop timed out: forcing exit", { after_ms: forceAfterMs });
      process.exit(1);
    }, forceAfterMs);
    timer.unref?.();
    try {
      await running.stop();
      log.info("stopped");
    } catch (err) {
      log.error("error while stopping", { err });
      code = 1;
    }
    clearTimeout(timer);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop("SIGINT", 0));
  process.on("SIGTERM", () => void stop("SIGTERM", 0));
  if (running.done) {
    const code = await running.done;
    if (!stopping) await stop("done", typeof code === "number" ? code : 0);
  }
}
