/**
 * The secrets a one-machine network needs, made on the first `evnet up` and kept in the data
 * folder (owner-only) so a second run finds its CPs' keys and credentials still valid.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureControlSigningKeys, ensureSigningKeys } from "../../certs/signing-keys.ts";
import { randomHex, randomToken } from "../../crypto/keys.ts";

export interface UpSecrets {
  operatorToken: string;
  serviceToken: string;
  enrollmentToken: string;
  gatewayToken: string;
  masterKey: string;
  signingKeyFile: string;
  publicKeyFile: string;
  controlKeyFile: string;
  controlPublicKeyFile: string;
  /** Where they are kept, to tell the operator. */
  file: string;
}

type Stored = Omit<UpSecrets, "signingKeyFile" | "publicKeyFile" | "controlKeyFile" | "controlPublicKeyFile" | "file">;

export async function ensureUpSecrets(dataDir: string, given: Partial<Stored>): Promise<UpSecrets> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "secrets.json");
  const stored: Partial<Stored> = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<Stored>) : {};
  const secrets: Stored = {
    operatorToken: given.operatorToken ?? stored.operatorToken ?? randomToken(24),
    serviceToken: given.serviceToken ?? stored.serviceToken ?? randomToken(24),
    enrollmentToken: given.enrollmentToken ?? stored.enrollmentToken ?? randomToken(24),
    gatewayToken: given.gatewayToken ?? stored.gatewayToken ?? randomToken(24),
    masterKey: given.masterKey ?? stored.masterKey ?? randomHex(32),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  const signing = await ensureSigningKeys(join(dataDir, "keys"));
  const control = await ensureControlSigningKeys(join(dataDir, "keys"));
  return {
    ...secrets,
    signingKeyFile: signing.privateKeyFile,
    publicKeyFile: signing.publicKeyFile,
    controlKeyFile: control.privateKeyFile,
    controlPublicKeyFile: control.publicKeyFile,
    file,
  };
}
