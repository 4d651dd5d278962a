/** The engine's interactive menu: see what it is doing, simulate a fault or its recovery, unplug the car. */
import { bar, type LogCapture, runMenu, watch } from "../../cli/menu.ts";
import type { Engine } from "./engine.ts";

function describe(engine: Engine, maxDurationS: number): string {
  const lines = [
    `charging point  ${engine.cpId}`,
    `health          ${engine.faulted ? "KO (simulated fault)" : "OK"}`,
    `channel key     ${engine.keyId ? "received from the monitor" : "none yet (start the monitor)"}`,
  ];
  const r = engine.lastReading;
  if (engine.sessionId) {
    lines.push(`supplying       session ${engine.sessionId}`);
    if (r)
      lines.push(`                ${r.powerKw} kW  ${r.energyKwh.toFixed(3)} kWh  ${r.costEur.toFixed(2)} €  ${Math.round(r.elapsedS)} s of ${maxDurationS} s`);
  } else lines.push("supplying       no");
  const f = engine.lastFinished;
  if (f) lines.push(`last supply     ${f.sessionId}: ${f.energyKwh.toFixed(3)} kWh, ${f.costEur.toFixed(2)} €, ended: ${f.reason}`);
  if (engine.queued > 0) lines.push(`waiting to send ${engine.queued} message(s)${engine.busFailing ? " (bus unreachable)" : ""}`);
  return lines.join("\n");
}

export function engineMenu(engine: Engine, maxDurationS: number, logs: LogCapture, signal: AbortSignal): Promise<void> {
  return runMenu(
    {
      title: `evnet cp-engine ${engine.cpId}`,
      status: () => describe(engine, maxDurationS),
      items: () => [
        {
          value: "watch",
          label: "Watch the supply live",
          run: async () => {
            await watch(() => {
              const r = engine.lastReading;
              if (!engine.sessionId || !r) return engine.faulted ? "KO: not supplying" : "idle: waiting for Central to authorise a charge";
              return `${engine.sessionId} ${bar(r.elapsedS / maxDurationS)} ${r.powerKw} kW  ${r.energyKwh.toFixed(3)} kWh  ${r.costEur.toFixed(2)} €`;
            });
          },
        },
        engine.faulted
          ? { value: "recover", label: "Recover from the fault (answer OK again)", run: () => engine.setFault(false) }
          : { value: "fault", label: "Simulate a fault (answer KO)", hint: "ends a supply in progress", run: () => engine.setFault(true) },
        { value: "unplug", label: "Unplug the car", hint: engine.sessionId ? "ends the supply" : "nothing is plugged", run: () => void engine.unplug() },
      ],
    },
    logs,
    signal,
  );
}
