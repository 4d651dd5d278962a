/** What every Registry route gets. */
import type { Auditor } from "../../audit/audit.ts";
import type { CredentialSigner } from "../../crypto/credentials.ts";
import type { Db } from "../../db/client.ts";
import type { Brakes } from "../../http/brakes.ts";
import type { Logger } from "../../lib/log.ts";
import type { RegistryConfig } from "./config.ts";

export interface RegistryContext {
  db: Db;
  auditor: Auditor;
  log: Logger;
  config: RegistryConfig;
  signer: CredentialSigner;
  startedAt: Date;
  /** Holds back sources that keep failing to authenticate (429), and counts their flood in the audit log. */
  brakes?: Brakes;
}
