/**
 * Control messages as the API and Central's admin send them (signed), for tests that stand in
 * for those roles or read what they sent: one control signing key pair for the test process,
 * made by `evnet certs`' own code, and the variables that give it to roles.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Bus, BusMessage } from "../../src/bus/bus.ts";
import { type ControlMessage, parseControlMessage, signedControl } from "../../src/bus/control-messages.ts";
import type { Topics } from "../../src/bus/topics.ts";
import { ensureControlSigningKeys } from "../../src/certs/signing-keys.ts";
import { createMessageSigner, createMessageVerifier } from "../../src/crypto/signed-messages.ts";

const dir = mkdtempSync(join(tmpdir(), "evnet-control-keys-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
export const controlKeys = await ensureControlSigningKeys(dir);
export const testSigner = createMessageSigner(readFileSync(controlKeys.privateKeyFile, "utf8"), "test");
const verifier = createMessageVerifier(readFileSync(controlKeys.publicKeyFile, "utf8"));

/** The variables that give a role this process's control keys (Central verifies, the API and admin sign). */
export function controlKeyEnv(): Record<string, string> {
  return { EVNET_CONTROL_PUBLIC_KEY: controlKeys.publicKeyFile, EVNET_CONTROL_SIGNING_KEY: controlKeys.privateKeyFile };
}

export async function publishControl(bus: Bus, topics: Topics, message: ControlMessage): Promise<void> {
  await bus.publish(topics.centralControl, [signedControl(testSigner, message)]);
}

export function operatorCommand(type: "operator_stop" | "operator_resume", cpId: string, reason = "test"): ControlMessage {
  return { type, cp_id: cpId, actor_id: "tester", reason, at: new Date().toISOString() };
}

/** What a control message on the bus says, once its signature checks out; undefined otherwise. */
export function readControl(m: BusMessage): ControlMessage | undefined {
  try {
    const parsed = parseControlMessage(verifier.verify(m.value, m.key).body);
    return parsed.ok ? parsed.value : undefined;
  } catch {
    return undefined;
  }
}
