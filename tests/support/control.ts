/** Control messages as the API and Central's admin send them, for tests that stand in for those roles. */
import type { Bus } from "../../src/bus/bus.ts";
import { type ControlMessage, controlMessage } from "../../src/bus/control-messages.ts";
import type { Topics } from "../../src/bus/topics.ts";

export async function publishControl(bus: Bus, topics: Topics, message: ControlMessage): Promise<void> {
  await bus.publish(topics.centralControl, [controlMessage(message)]);
}

export function operatorCommand(type: "operator_stop" | "operator_resume", cpId: string, reason = "test"): ControlMessage {
  return { type, cp_id: cpId, actor_id: "tester", reason, at: new Date().toISOString() };
}
