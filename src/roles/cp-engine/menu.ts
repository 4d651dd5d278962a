/** The engine's interactive menu: see what it is doing, simulate a fault or its recovery, unplug the car. */
import { bar, type LogCapture } from "../../cli/menu.ts";
import { runCpMenu } from "../cp-menu.ts";
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
  if (engine.backlog) lines.push(engine.backlog);
  return lines.join("\n");
}

function liveLine(engine: Engine, maxDurationS: number): string {
  const r = engine.lastReading;
  if (!engine.sessionId || !r) return engine.faulted ? "KO: not supplying" : "idle: waiting for Central to authorise a charge";
  return `${engine.sessionId} ${bar(r.elapsedS / maxDurationS)} ${r.powerKw} kW  ${r.energyKwh.toFixed(3)} kWh  ${r.costEur.toFixed(2)} €`;
}

export function engineMenu(engine: Engine, maxDurationS: number, logs: LogCapture, signal: AbortSignal): Promise<void> {
  return runCpMenu(
    {
      role: "cp-engine",
      cpId: engine.cpId,
      status: () => describe(engine, maxDurationS),
      live: { label: "Watch the supply live", line: () => liveLine(engine, maxDurationS) },
      items: () => [
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
