/**
 * What the menus of a charging point's two processes share (`evnet cp-engine`, `evnet
 * cp-monitor`): the title naming the CP, a status panel, a live view first, then each role's
 * own actions.
 */
import { type LogCapture, type MenuItem, runMenu, watch } from "../cli/menu.ts";

export interface CpMenu {
  role: "cp-engine" | "cp-monitor";
  cpId: string;
  status: () => string;
  /** The live view: its label and the line it redraws. */
  live: { label: string; line: () => string };
  items: () => MenuItem[];
}

export function runCpMenu(menu: CpMenu, logs: LogCapture, signal: AbortSignal): Promise<void> {
  const live: MenuItem = {
    value: "watch",
    label: menu.live.label,
    run: async () => {
      await watch(menu.live.line);
    },
  };
  return runMenu({ title: `evnet ${menu.role} ${menu.cpId}`, status: menu.status, items: () => [live, ...menu.items()] }, logs, signal);
}
