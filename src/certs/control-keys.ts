/**
 * Loading the control signing keys a role is configured with. A file the operator named must
 * load, or the role refuses to start; with none named, the default file from `evnet certs` is
 * used if it is there. Central cannot work without the public key (it would refuse every control
 * message); a role without the private key can run but cannot tell Central anything, and says so.
 */
import { existsSync, readFileSync } from "node:fs";
import { ConfigError } from "../config/env.ts";
import { createMessageSigner, createMessageVerifier, type MessageSigner, type MessageVerifier, SigningKeyFileError } from "../crypto/signed-messages.ts";
import type { Logger } from "../lib/log.ts";

export const DEFAULT_CONTROL_SIGNING_KEY = "certs/control-signing-key.pem";
export const DEFAULT_CONTROL_PUBLIC_KEY = "certs/control-signing-public.pem";

function read(variable: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`${variable}: cannot read ${file} (make it with 'evnet certs')`);
  }
}

/** The role's control signer, named `signer` in what it signs; undefined (logged) when it has no key. */
export function loadControlSigner(file: string | undefined, signer: string, log?: Logger): MessageSigner | undefined {
  const path = file ?? DEFAULT_CONTROL_SIGNING_KEY;
  if (!file && !existsSync(path)) {
    log?.warn("no control signing key: this role cannot tell Central anything (set EVNET_CONTROL_SIGNING_KEY or run 'evnet certs')", { looked_for: path });
    return undefined;
  }
  try {
    return createMessageSigner(read("EVNET_CONTROL_SIGNING_KEY", path), signer);
  } catch (err) {
    if (err instanceof SigningKeyFileError) throw new ConfigError(`EVNET_CONTROL_SIGNING_KEY: ${path}: ${err.message}`);
    throw err;
  }
}

/** Central's verifier of control messages: required. */
export function loadControlVerifier(file: string | undefined): MessageVerifier {
  const path = file ?? DEFAULT_CONTROL_PUBLIC_KEY;
  try {
    return createMessageVerifier(read("EVNET_CONTROL_PUBLIC_KEY", path));
  } catch (err) {
    if (err instanceof SigningKeyFileError) throw new ConfigError(`EVNET_CONTROL_PUBLIC_KEY: ${path}: ${err.message}`);
    throw err;
  }
}

/** A verifier for a role that can do without one (it logs what it then does without); a file named must load. */
export function loadOptionalControlVerifier(file: string | undefined, without: string, log: Logger): MessageVerifier | undefined {
  if (!file && !existsSync(DEFAULT_CONTROL_PUBLIC_KEY)) {
    log.info(`no control public key: ${without} (set EVNET_CONTROL_PUBLIC_KEY or run 'evnet certs')`, { looked_for: DEFAULT_CONTROL_PUBLIC_KEY });
    return undefined;
  }
  return loadControlVerifier(file);
}
