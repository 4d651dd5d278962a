/** The monitor's interactive menu: supervision status, the identity actions, a live view of the engine. */
import type { LogCapture } from "../../cli/menu.ts";
import type { Logger } from "../../lib/log.ts";
import { runCpMenu } from "../cp-menu.ts";
import type { MonitorConfig } from "./config.ts";
import { type IdentityAction, identityMenuOptions, runIdentityAction } from "./identity-menu.ts";
import type { RunningMonitor } from "./index.ts";

function ago(d?: Date): string {
  return d ? `${Math.round((Date.now() - d.getTime()) / 1000)} s ago` : "never";
}

function status(running: RunningMonitor, config: MonitorConfig): string {
  const m = running.monitor;
  const v = m.verdict;
  return [
    `charging point  ${m.cpId}`,
    `channel key     ${m.keyId ?? "none (register and authenticate)"}`,
    `engine          ${config.ENGINE_ADDRESS}: ${v.health} since ${ago(v.since)} (${v.detail})`,
    `supplying       ${v.supplying ? `yes, session ${v.sessionId}` : "no"}`,
    `heartbeat       every ${config.MONITOR_TO_CENTRAL_HEARTBEAT_INTERVAL} s, last ${ago(m.lastHeartbeatAt)}`,
    ...(m.backlog ? [m.backlog] : []),
  ].join("\n");
}

export function monitorMenu(running: RunningMonitor, config: MonitorConfig, log: Logger, logs: LogCapture, signal: AbortSignal): Promise<void> {
  const m = running.monitor;
  const identityCtx = {
    config,
    cpId: config.CP_ID,
    log,
    onNewKey: running.useKey,
    extraDetails: () => ({ Engine: `${config.ENGINE_ADDRESS} (${m.verdict.health})`, "Last heartbeat": ago(m.lastHeartbeatAt) }),
  };
  return runCpMenu(
    {
      role: "cp-monitor",
      cpId: config.CP_ID,
      status: () => status(running, config),
      live: {
        label: "Watch the engine's health live",
        line: () => `${m.verdict.health.padEnd(7)} ${m.verdict.supplying ? `supplying ${m.verdict.sessionId}` : "idle"}  (${m.verdict.detail})`,
      },
      items: () => [
        ...identityMenuOptions.map((o) => ({ value: o.value, label: o.label, run: () => runIdentityAction(o.value as IdentityAction, identityCtx, signal) })),
      ],
    },
    logs,
    signal,
  );
}
