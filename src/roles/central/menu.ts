/** Central's admin menu (SYSTEM.md): CPs, sessions, stop/resume, revocation, statistics, dead letters. */
import * as p from "@clack/prompts";
import { ask, askId, askOptional, type LogCapture, runMenu } from "../../cli/menu.ts";
import { formatDeadLetter, formatDeadLetters } from "../../dead-letters/view.ts";
import { DRIVER_ID_PATTERN, DRIVER_ID_RULE } from "../../identity/drivers.ts";
import { describeRegistration } from "../../identity/ocpp-chargers.ts";
import * as admin from "./admin.ts";
import { letterId, listLetters, replayLetter, showLetter } from "./dead-letter-admin.ts";

export function centralMenu(deps: admin.AdminDeps, instance: string, logs: LogCapture, signal: AbortSignal): Promise<void> {
  const { db } = deps;
  const stopOrResume = (stop: boolean) => async () => {
    const target = await askId(`CP id to ${stop ? "stop" : "resume"}, or 'all'`, "CP_001");
    if (!target) return;
    const ids = await admin.setStopped(deps, target, stop);
    p.log.success(`${stop ? "stop" : "resume"} sent for ${ids.length} charging point(s): ${ids.join(", ")}`);
  };
  return runMenu(
    {
      title: `evnet central (${instance})`,
      status: async () => admin.formatStats(await admin.stats(db)),
      items: () => [
        { value: "all", label: "List all charging points", run: async () => p.note(admin.formatCps(await admin.listCps(db, "all")), "all charging points") },
        {
          value: "available",
          label: "List available charging points",
          hint: "ACTIVE",
          run: async () => p.note(admin.formatCps(await admin.listCps(db, "available")), "available"),
        },
        {
          value: "active",
          label: "List active charging points",
          hint: "supplying now",
          run: async () => p.note(admin.formatCps(await admin.listCps(db, "active")), "supplying now"),
        },
        {
          value: "cp",
          label: "Show charging point status",
          run: async () => {
            const id = await askId("CP id", "CP_001");
            if (id) p.note(admin.formatCp(await admin.showCp(db, id)), id);
          },
        },
        {
          value: "sessions",
          label: "List charging sessions",
          hint: "newest 20",
          run: async () => p.note(admin.formatSessions(await admin.listSessions(db, 20)), "sessions"),
        },
        {
          value: "session",
          label: "Show session details",
          run: async () => {
            const id = await ask("Session id", {
              example: "S-mx38wdll-71b72c59",
              validate: (id) => (id ? undefined : "a session id, as 'List charging sessions' shows them (Esc to go back)"),
            });
            if (id) p.note(admin.formatSession(await admin.showSession(db, id)), id);
          },
        },
        { value: "stop", label: "Stop charging point (CP id or 'all')", run: stopOrResume(true) },
        { value: "resume", label: "Resume charging point (CP id or 'all')", run: stopOrResume(false) },
        {
          value: "revoke",
          label: "Revoke the key of a charging point",
          run: async () => {
            const id = await askId("CP id", "CP_001");
            if (!id) return;
            const ok = await p.confirm({ message: `Revoke ${id}'s key? It stops until its monitor authenticates again.` });
            if (ok !== true) return;
            const keys = await admin.revoke(deps, id);
            p.log.success(`revoked ${keys.length} key(s) of ${id}`);
          },
        },
        {
          value: "register-ocpp",
          label: "Register an OCPP charger",
          hint: "its password is shown once",
          run: async () => {
            const cpId = await askId("Charger id (its OCPP identity)", "CP_OCPP_01");
            if (!cpId) return;
            const before = await admin.registrationOf(db, cpId);
            if (before.kind === "evnet") {
              p.log.error(`${cpId} is registered as an evnet charging point (engine and monitor); deregister it first, or choose another id`);
              return;
            }
            if (before.kind === "ocpp") {
              const again = await p.confirm({
                message: `${cpId} is already an OCPP charger (${before.location}, profile ${before.securityProfile}). Register it again? It gets a new password; the one it has stops working when it next connects.`,
                initialValue: false,
              });
              if (again !== true) return;
            }
            const location = await ask("Location (city)", {
              example: "Madrid",
              initialValue: before.kind === "ocpp" ? before.location : undefined,
              validate: admin.ocppAnswerProblem.location,
            });
            if (!location) return;
            const profile = await ask("Security profile: 1 ws + password (loopback), 2 wss + password, 3 wss + client certificate", {
              initialValue: String(before.kind === "ocpp" ? before.securityProfile : 2),
              validate: admin.ocppAnswerProblem.profile,
            });
            if (!profile) return;
            const price = await askOptional(
              before.kind === "ocpp" ? `Price per kWh (empty: keep ${before.pricePerKwh})` : "Price per kWh (empty: the default)",
              { validate: admin.ocppAnswerProblem.price },
            );
            if (price === undefined) return;
            p.note(describeRegistration(await admin.registerOcpp(deps, { cpId, location, profile, price })), "OCPP charger");
          },
        },
        { value: "stats", label: "Show system statistics", run: async () => p.note(admin.formatStats(await admin.stats(db)), "statistics") },
        {
          value: "register-driver",
          label: "Register a driver",
          hint: "or give one a new credential",
          run: async () => {
            const id = await ask("Driver id (also its RFID id tag)", {
              example: "D1",
              validate: (text) => (DRIVER_ID_PATTERN.test(text) ? undefined : `${DRIVER_ID_RULE} (Esc to go back)`),
            });
            if (!id) return;
            const done = await admin.registerDriverAccount(deps, id);
            p.note(
              `${done.credential}\n\nGive it to the driver (DRIVER_CREDENTIAL); it is not shown again.`,
              `driver ${id} ${done.created ? "registered" : "has a new credential"}`,
            );
          },
        },
        {
          value: "dead-letters",
          label: "List dead letters",
          hint: "messages set aside",
          run: async () => p.note(formatDeadLetters(await listLetters(deps)), "dead letters"),
        },
        {
          value: "dead-letter",
          label: "Show or replay a dead letter",
          run: async () => {
            const id = letterId(await ask("Dead letter number"));
            p.note(formatDeadLetter(await showLetter(deps, id)), `dead letter ${id}`);
            const replay = await p.confirm({ message: `Replay dead letter ${id} now (its cause is fixed)?`, initialValue: false });
            if (replay !== true) return;
            const topic = await replayLetter(deps, id);
            p.log.success(`Central sends dead letter ${id} back to ${topic}`);
          },
        },
      ],
    },
    logs,
    signal,
  );
}
