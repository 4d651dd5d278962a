/** The driver's interactive menu, as in the original design: list, request, stop, status, history, auto mode. */
import * as p from "@clack/prompts";
import { ask, askId, type LogCapture, runMenu, watch } from "../../cli/menu.ts";
import { availableCps, formatCps, formatHistory, history } from "./api.ts";
import { readCpFile, runAuto } from "./charging.ts";
import type { DriverClient } from "./client.ts";
import type { DriverConfig } from "./config.ts";
import { chargeSettings } from "./index.ts";
import { describeTicket, endReasonText, progressLine, ttyReporter } from "./output.ts";

function status(client: DriverClient, notices: string[]): string {
  const lines = [`driver ${client.driverId}`];
  const c = client.current;
  if (c) {
    lines.push(`charging at ${c.cpId}, session ${c.sessionId} (${c.pricePerKwh} €/kWh)`);
    lines.push(c.progress ? progressLine(c.progress) : "waiting for the first reading");
    if (c.stopping) lines.push(`ending: ${c.stopping.reason}`);
  } else lines.push("not charging");
  lines.push(`tickets this session: ${client.tickets.length}`);
  lines.push(...notices.splice(0));
  return lines.join("\n");
}

export function driverMenu(client: DriverClient, config: DriverConfig, logs: LogCapture, signal: AbortSignal): Promise<void> {
  const settings = chargeSettings(config);
  const notices: string[] = [];
  client.onUpdate((u) => {
    if (u.type === "ticket")
      notices.push(`ticket received for ${u.session_id}: ${u.energy_kwh.toFixed(3)} kWh, ${u.cost_eur.toFixed(2)} €, ${endReasonText(u.end_reason)}`);
    if (u.type === "stopping" && u.reason !== "driver_stop") notices.push(`session ${u.session_id} is ending: ${u.reason}`);
  });
  return runMenu(
    {
      title: `evnet driver ${client.driverId}`,
      status: () => status(client, notices),
      items: () => [
        {
          value: "list",
          label: "List available charging points",
          run: async () => p.note(formatCps(await availableCps(config)), "available charging points"),
        },
        {
          value: "request",
          label: "Request charging",
          hint: client.current ? `already charging at ${client.current.cpId}` : undefined,
          run: async () => {
            const cpId = await askId("Charging point id", "CP_001");
            if (!cpId) return;
            const spin = p.spinner();
            spin.start(`asking Central for a charge at ${cpId}`);
            try {
              const answer = await client.requestCharge(cpId, settings.requestTimeoutMs, (text) => spin.message(text));
              if (answer.type === "refused") spin.cancel(`refused: ${answer.reason} (${answer.code})`);
              else spin.stop(`authorised: session ${answer.session_id} at ${answer.cp_id}, ${answer.price_per_kwh} €/kWh`);
            } catch (err) {
              spin.error(err instanceof Error ? err.message : String(err));
            }
          },
        },
        {
          value: "watch",
          label: "Watch the charge live",
          hint: client.current ? undefined : "not charging",
          run: async () => {
            const sessionId = client.current?.sessionId;
            if (!sessionId) return void p.log.info("you are not charging");
            await watch(
              () => (client.current?.progress ? progressLine(client.current.progress) : client.current ? "waiting for the first reading" : "the session ended"),
              500,
              () => client.current?.sessionId !== sessionId,
            );
            const ticket = client.tickets.find((t) => t.session_id === sessionId);
            if (ticket) p.note(describeTicket(ticket), "ticket");
          },
        },
        {
          value: "stop",
          label: "Stop current charging session",
          run: async () => {
            if (!client.current) return void p.log.info("you are not charging");
            const spin = p.spinner();
            spin.start("asking the charger and Central to stop");
            try {
              const result = await client.stop(settings.ticketTimeoutMs, undefined, (text) => spin.message(text));
              if (result.type === "refused") spin.cancel(`refused: ${result.reason}`);
              else {
                spin.stop("stopped");
                p.note(describeTicket(result), "ticket");
              }
            } catch (err) {
              spin.error(err instanceof Error ? err.message : String(err));
            }
          },
        },
        {
          value: "status",
          label: "Show current charging status",
          run: () => p.note(status(client, notices), "status"),
        },
        {
          value: "history",
          label: "Show charging history",
          run: async () => {
            try {
              p.note(formatHistory(await history(config, client.driverId)), "history (Central)");
            } catch (err) {
              p.log.warn(`${err instanceof Error ? err.message : String(err)}; showing this session's tickets`);
              p.note(client.tickets.map(describeTicket).join("\n\n") || "no tickets yet", "history (this session)");
            }
          },
        },
        {
          value: "auto",
          label: "Start auto-charging (load from file)",
          run: async () => {
            const file = await ask("File with charging point ids, one per line", { example: "cps.txt" });
            if (!file) return;
            const seconds = await ask("Seconds to charge at each", { initialValue: String(settings.chargeSeconds ?? 10) });
            const chargeSeconds = Number(seconds ?? "10");
            if (!Number.isFinite(chargeSeconds) || chargeSeconds <= 0) return void p.log.error("expected a number of seconds");
            await runAuto(client, readCpFile(file), { ...settings, chargeSeconds }, ttyReporter(), signal);
          },
        },
      ],
    },
    logs,
    signal,
  );
}
