/** What every API route gets: the database, the bus, the audit log and the role's config. */
import type { Auditor } from "../../audit/audit.ts";
import type { Bus } from "../../bus/bus.ts";
import type { Topics } from "../../bus/topics.ts";
import type { CredentialVerifier } from "../../crypto/credentials.ts";
import type { MessageSigner } from "../../crypto/signed-messages.ts";
import type { Db } from "../../db/client.ts";
import type { Brakes } from "../../http/brakes.ts";
import type { Logger } from "../../lib/log.ts";
import type { ApiConfig } from "./config.ts";
import type { LiveFigures } from "./live/figures.ts";

export interface ApiContext {
  db: Db;
  bus: Bus;
  topics: Topics;
  auditor: Auditor;
  log: Logger;
  config: ApiConfig;
  /** When the role started, for health reports. */
  startedAt: Date;
  /** Verifies CP credentials with the Registry's public key; without it POST /auth answers 503. */
  credentialVerifier?: CredentialVerifier;
  /** Signs what the API tells Central (control messages); without it those writes answer 503. */
  controlSigner?: MessageSigner;
  /** Sessions' newest figures from Central's live topic (absent without the control public key). */
  live?: LiveFigures;
  /** Holds back sources that keep failing to authenticate (429), and counts their flood in the audit log. */
  brakes?: Brakes;
}
