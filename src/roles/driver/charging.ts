/**
 * Charging as a driver does it: ask at a CP, charge for a while (or until the session ends by
 * itself), stop, get the ticket; and auto mode, which does that at each CP of a file in turn
 * with a pause between them.
 */
import { readFileSync } from "node:fs";
import type { Authorised, Refused, TicketMessage } from "../../bus/messages.ts";
import { ConfigError } from "../../config/env.ts";
import { isId } from "../../domain/ids.ts";
import { type DriverClient, NoAnswerError } from "./client.ts";
import type { Reporter } from "./output.ts";

export interface ChargeSettings {
  /** Stop after this many seconds; undefined: wait until the session ends by itself. */
  chargeSeconds?: number;
  requestTimeoutMs: number;
  ticketTimeoutMs: number;
}

export type Outcome = { kind: "ticket"; ticket: TicketMessage } | { kind: "refused"; refused: Refused } | { kind: "problem"; reason: string };

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function chargeOnce(client: DriverClient, cpId: string, s: ChargeSettings, out: Reporter, signal?: AbortSignal): Promise<Outcome> {
  let answer: Authorised | Refused;
  const notice = (text: string) => out.info(`${cpId}: ${text}`);
  try {
    answer = await client.requestCharge(cpId, s.requestTimeoutMs, notice);
  } catch (err) {
    const reason = err instanceof NoAnswerError ? err.message : `could not ask: ${err instanceof Error ? err.message : String(err)}`;
    out.problem(cpId, reason);
    return { kind: "problem", reason };
  }
  if (answer.type === "refused") {
    out.refused(answer);
    return { kind: "refused", refused: answer };
  }
  out.info(`authorised at ${cpId}: session ${answer.session_id}, ${answer.price_per_kwh} €/kWh`);
  const target = { sessionId: answer.session_id, cpId, stopToken: answer.stop_token };
  const off = client.onUpdate((u) => {
    if (u.type === "progress" && u.session_id === target.sessionId) out.progress(u, s.chargeSeconds);
    if (u.type === "stopping" && u.session_id === target.sessionId && u.reason !== "driver_stop") out.info(`${cpId}: the session is ending (${u.reason})`);
  });
  const ended = client.ticketOf(target.sessionId);
  try {
    const stopAfter = new AbortController();
    const byItself = ended.promise.then((t) => ({ ticket: t }));
    const timeUp =
      s.chargeSeconds === undefined ? new Promise<never>(() => {}) : sleep(s.chargeSeconds * 1000, stopAfter.signal).then(() => ({ timeUp: true as const }));
    const aborted = new Promise<{ aborted: true }>((resolve) => signal?.addEventListener("abort", () => resolve({ aborted: true })));
    const first = await Promise.race([byItself, timeUp, aborted]);
    stopAfter.abort();
    if ("ticket" in first) {
      out.ticket(first.ticket);
      return { kind: "ticket", ticket: first.ticket };
    }
    // Quitting mid-charge stops the session, but does not wait long for the ticket.
    const result = await client.stop("aborted" in first ? 5000 : s.ticketTimeoutMs, target, notice);
    if (result.type === "refused") {
      out.refused(result);
      return { kind: "refused", refused: result };
    }
    out.ticket(result);
    return { kind: "ticket", ticket: result };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    out.problem(cpId, reason);
    return { kind: "problem", reason };
  } finally {
    off();
    ended.cancel();
  }
}

/** CP ids of an auto-mode file: one per line (or separated by commas/spaces); `#` starts a comment. */
export function readCpFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`--file: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const ids = text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, ""))
    .flatMap((l) => l.split(/[\s,;]+/))
    .filter(Boolean);
  const bad = ids.find((id) => !isId(id));
  if (bad) throw new ConfigError(`--file: ${path} has an invalid charging point id ${JSON.stringify(bad)}`);
  if (ids.length === 0) throw new ConfigError(`--file: ${path} lists no charging point`);
  return ids;
}

export async function runAuto(
  client: DriverClient,
  cpIds: string[],
  s: ChargeSettings & { pauseSeconds: number },
  out: Reporter,
  signal?: AbortSignal,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const [i, cpId] of cpIds.entries()) {
    if (signal?.aborted) break;
    out.info(`auto mode: ${i + 1}/${cpIds.length} ${cpId}`);
    outcomes.push(await chargeOnce(client, cpId, s, out, signal));
    if (i < cpIds.length - 1 && s.pauseSeconds > 0) await sleep(s.pauseSeconds * 1000, signal);
  }
  out.info(
    `auto mode done: ${outcomes.filter((o) => o.kind === "ticket").length} ticket(s), ${outcomes.filter((o) => o.kind === "refused").length} refusal(s), ${outcomes.filter((o) => o.kind === "problem").length} problem(s)`,
  );
  return outcomes;
}
