/**
 * `evnet central <operation>`: the admin menu's operations, headless. Reads print text (or, with
 * --json, the same JSON the API answers: its views and field names); stop/resume/revoke act and
 * print what they did. Needs the database (an existing one: a wrong folder must not silently
 * become a new empty network) and Kafka for stop, resume and revoke; not a running Central here.
 */
import { createAuditor } from "../../audit/audit.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { topicsFor } from "../../bus/topics.ts";
import { loadControlSigner } from "../../certs/control-keys.ts";
import { requireBrokers } from "../../config/common.ts";
import { type FlagValues, loadSettings } from "../../config/settings.ts";
import { openDatabase } from "../../db/client.ts";
import { describeRegistration, registrationView } from "../../identity/ocpp-chargers.ts";
import { AppError } from "../../lib/errors.ts";
import { createLogger } from "../../lib/log.ts";
import { findChargingPoint, listChargingPoints } from "../api/views/charging-points.ts";
import { findSession, listSessions as listSessionViews } from "../api/views/sessions.ts";
import {
  type AdminDeps,
  CENTRAL_ADMIN_SIGNER,
  type CpFilter,
  formatCp,
  formatCps,
  formatSession,
  formatSessions,
  formatStats,
  listCps,
  listSessions,
  registerDriverAccount,
  registerOcpp,
  revoke,
  setStopped,
  showCp,
  showSession,
  stats,
} from "./admin.ts";
import { type OperationConfig, operationSettings } from "./config.ts";
import { deadLetters } from "./dead-letter-admin.ts";

export const OPERATIONS = [
  "cps",
  "cp",
  "sessions",
  "session",
  "stop",
  "resume",
  "revoke",
  "register-ocpp",
  "register-driver",
  "stats",
  "dead-letters",
] as const;

export function loadOperationConfig(flags: FlagValues<typeof operationSettings>): OperationConfig {
  return loadSettings(operationSettings, flags);
}

const STATUS_OF: Record<CpFilter, "ACTIVE" | "SUPPLYING" | undefined> = { all: undefined, available: "ACTIVE", active: "SUPPLYING" };

function required(args: string[], what: string): string {
  const value = args[0];
  if (!value) throw new AppError("bad_request", `expected ${what}`);
  return value;
}

export async function runOperation(op: string, args: string[], config: OperationConfig, json: boolean): Promise<void> {
  if (!(OPERATIONS as readonly string[]).includes(op))
    throw new AppError("bad_request", `unknown operation '${op}'; expected one of: ${OPERATIONS.join(", ")}`);
  const log = createLogger("central");
  const needsSigner = op === "stop" || op === "resume" || op === "revoke";
  const needsBus = needsSigner;
  if (needsBus) requireBrokers(config, `to send '${op}' to Central`);
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.EVNET_DATA_DIR,
    maxConnections: 2,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    mustExist: true,
    connectNow: true,
    applicationName: "evnet central",
  });
  const bus = needsBus ? await openBus(busOptionsFrom(config, "evnet-central-admin")) : undefined;
  /** Prints the API's JSON for it with --json (read only then), the text otherwise. */
  const print = async (asJson: () => Promise<unknown> | unknown, asText: () => Promise<string> | string) =>
    console.log(json ? JSON.stringify(await asJson(), null, 2) : await asText());
  try {
    const db = database.db;
    const deps: AdminDeps = {
      db,
      bus: bus!,
      topics: topicsFor(config.EVNET_TOPIC_PREFIX),
      auditor: createAuditor(db, log),
      controlSigner: needsSigner ? loadControlSigner(config.EVNET_CONTROL_SIGNING_KEY, CENTRAL_ADMIN_SIGNER, log) : undefined,
    };
    // Each case awaits its printing: the database closes in `finally`.
    switch (op) {
      case "cps": {
        const filter = (args[0] ?? "all") as CpFilter;
        if (!["all", "available", "active"].includes(filter)) throw new AppError("bad_request", "cps takes all, available or active");
        return await print(
          async () => ({ charging_points: await listChargingPoints(db, { status: STATUS_OF[filter] }) }),
          async () => formatCps(await listCps(db, filter)),
        );
      }
      case "cp": {
        const view = await showCp(db, required(args, "a CP id"));
        return await print(
          async () => ({ charging_point: await findChargingPoint(db, view.cp.cpId) }),
          () => formatCp(view),
        );
      }
      case "sessions": {
        const limit = Number(args[0] ?? 20);
        if (!Number.isInteger(limit) || limit < 1)
          throw new AppError("bad_request", `sessions takes how many to show (a whole number), not ${JSON.stringify(args[0])}`);
        return await print(
          async () => ({ sessions: (await listSessionViews(db, { limit, offset: 0 })).sessions }),
          async () => formatSessions(await listSessions(db, limit)),
        );
      }
      case "session": {
        const s = await showSession(db, required(args, "a session id"));
        return await print(
          async () => ({ session: await findSession(db, s.sessionId) }),
          () => formatSession(s),
        );
      }
      case "stop":
      case "resume": {
        const ids = await setStopped(deps, required(args, "a CP id or 'all'"), op === "stop", args.slice(1).join(" "));
        return await print(
          () => ({ [op]: ids }),
          () => `${op} sent for: ${ids.join(", ") || "(no charging point)"}`,
        );
      }
      case "revoke": {
        const cpId = required(args, "a CP id");
        const keys = await revoke(deps, cpId, args.slice(1).join(" "));
        return await print(
          () => ({ cp_id: cpId, revoked_key_ids: keys }),
          () => `revoked ${keys.length} key(s) of ${cpId}`,
        );
      }
      case "register-ocpp": {
        const [cpId, location, profile = "2", price] = args;
        if (!cpId || !location) throw new AppError("bad_request", "register-ocpp takes <charger id> <location> [security profile 1|2|3] [price per kWh]");
        const done = await registerOcpp(deps, { cpId, location, profile, price });
        const view = registrationView(done);
        return await print(
          () => (done.securityProfile === 3 ? { ...view, ocpp_password: undefined } : view),
          () => describeRegistration(done),
        );
      }
      case "stats": {
        const s = await stats(db);
        return await print(
          () => s,
          () => formatStats(s),
        );
      }
      case "dead-letters":
        return await deadLetters(deps, args, print);
      case "register-driver": {
        const done = await registerDriverAccount(deps, required(args, "a driver id"));
        return await print(
          () => ({ driver_id: done.driverId, driver_credential: done.credential, created: done.created }),
          () =>
            `driver ${done.driverId} ${done.created ? "registered" : "has a new credential"}; give the driver this credential (DRIVER_CREDENTIAL), it is not shown again:\n${done.credential}`,
        );
      }
    }
  } finally {
    await bus?.close();
    await database.close();
  }
}
