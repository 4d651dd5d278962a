/**
 * How the driver's app shows what happens: JSON lines on stdout for programs (`--json`: one
 * object per ticket or refusal, progress on stderr), readable lines for a log, or a progress
 * bar redrawn in place on a terminal.
 */
import type { Progress, Refused, TicketMessage } from "../../bus/messages.ts";
import { END_REASON_TEXT } from "../../domain/billing.ts";
import { localTime } from "../../lib/local-time.ts";

export interface Reporter {
  progress(p: Progress, chargeSeconds?: number): void;
  ticket(t: TicketMessage): void;
  refused(r: Refused): void;
  problem(cpId: string, reason: string): void;
  info(text: string): void;
}

/** Why a session ended, in words (an unknown code as it is). */
export function endReasonText(reason: string | null | undefined): string {
  return reason ? (END_REASON_TEXT[reason as keyof typeof END_REASON_TEXT] ?? reason) : "";
}

export function describeTicket(t: TicketMessage): string {
  return [
    `${t.corrected ? "corrected ticket (the charger's final reading arrived late; this one replaces the first)" : "ticket"} ${t.session_id} at ${t.cp_id}`,
    `  energy     ${t.energy_kwh.toFixed(3)} kWh`,
    `  price      ${t.price_per_kwh.toFixed(2)} €/kWh`,
    `  cost       ${t.cost_eur.toFixed(2)} €`,
    `  start      ${localTime(t.started_at)}`,
    `  end        ${localTime(t.ended_at)}`,
    `  duration   ${t.duration_s} s`,
    `  ended      ${endReasonText(t.end_reason)}`,
  ].join("\n");
}

export function progressLine(p: Progress, chargeSeconds?: number): string {
  const figures = `${p.power_kw.toFixed(1)} kW  ${p.energy_kwh.toFixed(3)} kWh  ${p.cost_eur.toFixed(2)} €  ${Math.round(p.elapsed_s)} s`;
  if (!chargeSeconds) return `${p.cp_id} charging  ${figures}`;
  const f = Math.max(0, Math.min(1, p.elapsed_s / chargeSeconds));
  const width = 20;
  return `${p.cp_id} [${"#".repeat(Math.round(f * width)).padEnd(width, ".")}] ${figures}`;
}

/** `--json`: stdout carries only JSON lines (tickets, refusals, problems). */
export function jsonReporter(): Reporter {
  const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  return {
    progress: (p, s) => process.stderr.write(`${progressLine(p, s)}\n`),
    ticket: (t) => line(t),
    refused: (r) => line(r),
    problem: (cpId, reason) => line({ type: "error", cp_id: cpId, reason }),
    info: (text) => process.stderr.write(`${text}\n`),
  };
}

/** Plain lines (no terminal): one per progress update. */
export function textReporter(): Reporter {
  return {
    progress: (p, s) => console.log(progressLine(p, s)),
    ticket: (t) => console.log(describeTicket(t)),
    refused: (r) => console.log(`refused at ${r.cp_id}: ${r.reason} (${r.code})`),
    problem: (cpId, reason) => console.log(`${cpId}: ${reason}`),
    info: (text) => console.log(text),
  };
}

/** A terminal: the progress line is redrawn in place. */
export function ttyReporter(): Reporter {
  let drawing = false;
  const endLine = () => {
    if (drawing) process.stdout.write("\n");
    drawing = false;
  };
  return {
    progress: (p, s) => {
      process.stdout.write(`\r\x1b[2K${progressLine(p, s)}`);
      drawing = true;
    },
    ticket: (t) => {
      endLine();
      console.log(describeTicket(t));
    },
    refused: (r) => {
      endLine();
      console.log(`refused at ${r.cp_id}: ${r.reason} (${r.code})`);
    },
    problem: (cpId, reason) => {
      endLine();
      console.log(`${cpId}: ${reason}`);
    },
    info: (text) => {
      endLine();
      console.log(text);
    },
  };
}
