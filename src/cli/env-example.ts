/**
 * `.env.example`, made from the settings tables (scripts/env-example.ts writes it; a unit test
 * checks it is current): every variable a role reads, once, with its help and its default (as
 * a line to edit) or an example (commented out). A shared variable that means more for a later
 * role gets a note in that role's section.
 */
import { apiUrlSetting, busSettings, caFileSetting, databaseSettings, logSettings } from "../config/common.ts";
import { enrollmentTokenSetting, gatewayTokenSetting, masterKeySetting, operatorTokenSetting, serviceTokenSetting } from "../config/identity.ts";
import { defaultOf, defineSettings, type Settings } from "../config/settings.ts";
import { apiSettings } from "../roles/api/config.ts";
import { centralSettings } from "../roles/central/config.ts";
import { engineSettings } from "../roles/cp-engine/config.ts";
import { monitorSettings } from "../roles/cp-monitor/config.ts";
import { driverSettings } from "../roles/driver/config.ts";
import { gatewaySettings } from "../roles/ocpp/config.ts";
import { chargerSettings } from "../roles/ocpp-charger/config.ts";
import { registrySettings } from "../roles/registry/config.ts";
import { upSettings } from "../roles/up/config.ts";
import { weatherSettings } from "../roles/weather/config.ts";

export interface EnvSection {
  title: string;
  /** Comment lines under the title. */
  intro?: string[];
  settings: Settings;
}

const secretSettings = defineSettings({
  EVNET_OPERATOR_TOKEN: operatorTokenSetting,
  EVNET_SERVICE_TOKEN: serviceTokenSetting,
  EVNET_ENROLLMENT_TOKEN: enrollmentTokenSetting,
  EVNET_GATEWAY_TOKEN: gatewayTokenSetting,
  EVNET_MASTER_KEY: masterKeySetting,
});

/** In file order. Every role's table is here (the unit test checks every command's settings are). */
export const ENV_SECTIONS: EnvSection[] = [
  {
    title: "Database",
    intro: ["PostgreSQL for production (compose.yaml: postgres://evnet:evnet@127.0.0.1:5432/evnet)."],
    settings: databaseSettings,
  },
  {
    title: "Bus (Kafka)",
    intro: [
      'compose.yaml: 127.0.0.1:9092. Securing it (README "Securing Kafka"): TLS to the brokers and each role\'s own',
      "SASL principal. Without both, a role refuses a broker that is not on this machine (KAFKA_ALLOW_PLAINTEXT=true",
      "accepts the risk) and warns on this machine. `evnet kafka-acls` lists the principal of each role.",
    ],
    settings: busSettings,
  },
  { title: "Logging", settings: logSettings },
  {
    title: "Reaching evnet's servers (every client role)",
    intro: ["HTTPS is verified against this CA (or the system's), never switched off."],
    settings: defineSettings({ API_URL: apiUrlSetting, EVNET_CA_FILE: caFileSetting }),
  },
  {
    title: "Secrets",
    intro: [
      "Keep them out of command lines and version control; make each with: head -c 32 /dev/urandom | base64",
      "The master key must stay the same: changing it makes the stored CP keys unreadable.",
    ],
    settings: secretSettings,
  },
  { title: "API and dashboard (evnet api)", settings: apiSettings },
  { title: "Central (evnet central)", intro: ["Central also needs DATABASE_URL, KAFKA_BROKERS and the API's EVNET_MASTER_KEY."], settings: centralSettings },
  { title: "Charging point engine (evnet cp-engine)", settings: engineSettings },
  { title: "Charging point monitor (evnet cp-monitor)", settings: monitorSettings },
  {
    title: "OCPP gateway (evnet ocpp)",
    intro: ["The API lets gateways in with EVNET_GATEWAY_TOKEN (the same on the API and every gateway; unset on the API: none can join)."],
    settings: gatewaySettings,
  },
  { title: "Simulated OCPP charger (evnet ocpp-charger)", settings: chargerSettings },
  { title: "Driver (evnet driver)", settings: driverSettings },
  { title: "Registry (evnet registry)", settings: registrySettings },
  { title: "Weather office (evnet weather)", settings: weatherSettings },
  { title: "The whole network in one process (evnet up)", settings: upSettings },
];

const HEADER = [
  "# evnet configuration, made from the settings tables (bun scripts/env-example.ts): do not edit by hand.",
  "# Copy it to .env and edit: every role reads .env from its working directory (or the file named by",
  "# EVNET_ENV_FILE). Precedence: command-line flags > environment > .env. A variable left empty or",
  "# commented out takes its default. `evnet <command> --help` shows which ones each command reads.",
];

function title(text: string): string {
  return `# --- ${text} ${"-".repeat(Math.max(3, 92 - text.length))}`;
}

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;

/** What a later role's help says beyond the first one's (its meaning there), or undefined. */
function noteFor(first: string, later: string): string | undefined {
  if (later === first) return undefined;
  if (!later.startsWith(first)) return later;
  return later
    .slice(first.length)
    .trim()
    .replace(/^[;,]\s*/, "")
    .replace(/^\((.*)\)$/, "$1");
}

export function renderEnvExample(sections: EnvSection[] = ENV_SECTIONS): string {
  const written = new Map<string, string>();
  const out = [...HEADER];
  for (const section of sections) {
    out.push("", title(section.title), ...(section.intro ?? []).map((line) => `# ${line}`));
    for (const [name, setting] of Object.entries(section.settings)) {
      const first = written.get(name);
      if (first !== undefined) {
        const note = noteFor(first, setting.help);
        if (note) out.push(`# ${name} (above), here: ${note}.`);
        continue;
      }
      written.set(name, setting.help);
      const fallback = defaultOf(setting);
      const computed = setting.defaultText !== undefined;
      const extras = [setting.flag?.split(" ")[0], computed ? `default: ${fallback}` : undefined].filter(Boolean);
      out.push(`# ${sentence(`${setting.help}${extras.length ? ` (${extras.join("; ")})` : ""}`)}`);
      out.push(fallback !== undefined && !computed ? `${name}=${fallback}` : `# ${name}=${setting.example ?? ""}`);
    }
  }
  return `${out.join("\n")}\n`;
}
