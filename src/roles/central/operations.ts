/**
 * `evnet central <operation>`: the admin menu's operations, headless. Reads print text (or JSON
 * with --json); stop/resume/revoke act and print what they did. Needs the database (and the
 * bus for stop, resume and revoke), not a running Central in this process.
 */
import * as v from "valibot";
import { createAuditor } from "../../audit/audit.ts";
import { busOptionsFrom, openBus } from "../../bus/open.ts";
import { topicsFor } from "../../bus/topics.ts";
import { busEntries, databaseEntries } from "../../config/common.ts";
import { loadConfig } from "../../config/env.ts";
import { openDatabase } from "../../db/client.ts";
import { describeRegistration } from "../../identity/ocpp-chargers.ts";
import { AppError } from "../../lib/errors.ts";
import { createLogger } from "../../lib/log.ts";
import {
  type CpFilter,
  formatCp,
  formatCps,
  formatSession,
  formatSessions,
  formatStats,
  listCps,
  listSessions,
  registerOcpp,
  revoke,
  setStopped,
  showCp,
  showSession,
  stats,
} from "./admin.ts";

export const OPERATIONS = ["cps", "cp", "sessions", "session", "stop", "resume", "revoke", "register-ocpp", "stats"] as const;

const operationConfigSchema = v.object({ ...databaseEntries, ...busEntries });
export type OperationConfig = v.InferOutput<typeof operationConfigSchema>;

export function loadOperationConfig(flags: Partial<Record<keyof OperationConfig, unknown>>): OperationConfig {
  return loadConfig(operationConfigSchema, flags);
}

function required(args: string[], what: string): string {
  const value = args[0];
  if (!value) throw new AppError("bad_request", `expected ${what}`);
  return value;
}

export async function runOperation(op: string, args: string[], config: OperationConfig, json: boolean): Promise<void> {
  if (!(OPERATIONS as readonly string[]).includes(op))
    throw new AppError("bad_request", `unknown operation '${op}'; expected one of: ${OPERATIONS.join(", ")}`);
  const log = createLogger("central");
  const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.EVNET_DATA_DIR, maxConnections: 2 });
  const needsBus = op === "stop" || op === "resume" || op === "revoke";
  const bus = needsBus ? await openBus(busOptionsFrom(config, "evnet-central-admin")) : undefined;
  const print = (data: unknown, text: string) => console.log(json ? JSON.stringify(data, null, 2) : text);
  try {
    const db = database.db;
    const deps = { db, bus: bus!, topics: topicsFor(config.EVNET_TOPIC_PREFIX), auditor: createAuditor(db, log) };
    switch (op) {
      case "cps": {
        const filter = (args[0] ?? "all") as CpFilter;
        if (!["all", "available", "active"].includes(filter)) throw new AppError("bad_request", "cps takes all, available or active");
        const cps = await listCps(db, filter);
        return print(cps, formatCps(cps));
      }
      case "cp": {
        const view = await showCp(db, required(args, "a CP id"));
        return print(view, formatCp(view));
      }
      case "sessions": {
        const sessions = await listSessions(db, Number(args[0] ?? 20));
        return print(sessions, formatSessions(sessions));
      }
      case "session": {
        const s = await showSession(db, required(args, "a session id"));
        return print(s, formatSession(s));
      }
      case "stop":
      case "resume": {
        const ids = await setStopped(deps, required(args, "a CP id or 'all'"), op === "stop", args.slice(1).join(" "));
        return print({ [op]: ids }, `${op} sent for: ${ids.join(", ") || "(no charging point)"}`);
      }
      case "revoke": {
        const cpId = required(args, "a CP id");
        const keys = await revoke(deps, cpId, args.slice(1).join(" "));
        return print({ cp_id: cpId, revoked_key_ids: keys }, `revoked ${keys.length} key(s) of ${cpId}`);
      }
      case "register-ocpp": {
        const [cpId, location, profile = "2", price] = args;
        if (!cpId || !location) throw new AppError("bad_request", "register-ocpp takes <charger id> <location> [security profile 1|2|3] [price per kWh]");
        const done = await registerOcpp(deps, { cpId, location, profile, price });
        return print({ ...done, password: done.securityProfile === 3 ? undefined : done.password }, describeRegistration(done));
      }
      case "stats": {
        const s = await stats(db);
        return print(s, formatStats(s));
      }
    }
  } finally {
    await bus?.close();
    await database.close();
  }
}
