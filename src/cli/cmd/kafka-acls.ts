import type { CAC } from "cac";
import { busSettings, logSettings } from "../../config/common.ts";
import { defineSettings } from "../../config/settings.ts";
import { centralSettings } from "../../roles/central/config.ts";
import { defineCommand } from "../command.ts";

const kafkaAclsSettings = defineSettings({
  ...busSettings,
  EVNET_CENTRAL_GROUP: { ...centralSettings.EVNET_CENTRAL_GROUP, renamedFrom: { flag: "--central-group <name>" } },
  ...logSettings,
});

const list = (text?: string) =>
  (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * `evnet kafka-acls`: the Kafka principal of each role and the ACLs it needs. Prints the table;
 * with --apply, logged in as the broker's administrator (KAFKA_SASL_* of this command), creates
 * the topics, the principals (passwords in --secrets-dir) and the ACLs.
 */
export function register(cli: CAC): void {
  defineCommand(
    cli,
    {
      usage: "kafka-acls",
      description: "List each role's Kafka principal and ACLs; with --apply, create the topics, principals and ACLs on a secured broker",
      settings: kafkaAclsSettings,
      switches: {
        apply: { flag: "--apply", help: "apply them, logged in as the broker's administrator (KAFKA_BROKERS, KAFKA_TLS_CA_FILE, KAFKA_SASL_*)" },
        cp: { flag: "--cp <ids>", help: "CP ids that get a principal each, comma-separated (default: one principal for every CP)" },
        driver: { flag: "--driver <ids>", help: "driver ids that get a principal each, comma-separated (default: one principal for every driver)" },
        secretsDir: { flag: "--secrets-dir <dir>", help: "where each principal's password file is kept (made when missing)", default: "kafka-secrets" },
        noUsers: { flag: "--no-users", help: "leave the principals to whoever manages the broker's users; apply the topics and ACLs only" },
        mechanism: { flag: "--mechanism <name>", help: "SCRAM mechanism of the principals: SCRAM-SHA-512 or SCRAM-SHA-256", default: "SCRAM-SHA-512" },
      },
      examples: ["evnet kafka-acls", "KAFKA_SASL_USERNAME=evnet-admin KAFKA_SASL_PASSWORD_FILE=admin.password evnet kafka-acls --apply --cp CP_001,CP_002"],
    },
    async ({ flags, switches }) => {
      const { loadSettings } = await import("../../config/settings.ts");
      const { AppError } = await import("../../lib/errors.ts");
      const { describeGrant, principalsFor, ROLES_WITHOUT_KAFKA, busCheckTopic } = await import("../../bus/kafka-access.ts");
      const config = loadSettings(kafkaAclsSettings, flags);
      const mechanism = switches.mechanism;
      if (mechanism !== "SCRAM-SHA-512" && mechanism !== "SCRAM-SHA-256")
        throw new AppError("bad_request", `--mechanism must be SCRAM-SHA-512 or SCRAM-SHA-256 (got ${JSON.stringify(mechanism)})`);
      const { isId } = await import("../../domain/ids.ts");
      const bad = [...list(switches.cp), ...list(switches.driver)].filter((id) => !isId(id));
      if (bad.length) throw new AppError("bad_request", `not a CP or driver id: ${bad.map((id) => JSON.stringify(id)).join(", ")}`);
      const principals = principalsFor({
        topicPrefix: config.EVNET_TOPIC_PREFIX,
        centralGroup: config.EVNET_CENTRAL_GROUP,
        cps: list(switches.cp),
        drivers: list(switches.driver),
      });
      for (const p of principals) {
        console.log(`User:${p.username}  (${p.role})`);
        for (const g of p.grants) console.log(`  ${describeGrant(g)}`);
      }
      for (const [role, why] of Object.entries(ROLES_WITHOUT_KAFKA)) console.log(`no principal for ${role}: ${why}`);
      if (!switches.apply) {
        console.log("add --apply to create them on the broker (as its administrator)");
        return;
      }
      const { requireBrokers } = await import("../../config/common.ts");
      const brokers = requireBrokers(config, "to apply them").KAFKA_BROKERS;
      const { kafkaSecurityFrom } = await import("../../bus/kafka-security.ts");
      const security = kafkaSecurityFrom(config);
      const { allTopics, topicsFor } = await import("../../bus/topics.ts");
      let credentials: Map<string, import("../../crypto/scram.ts").ScramCredential> | undefined;
      let passwords: import("../../bus/kafka/principal-passwords.ts").PrincipalPassword[] = [];
      if (!switches.noUsers) {
        const { ensurePrincipalPasswords } = await import("../../bus/kafka/principal-passwords.ts");
        const { scramCredential } = await import("../../crypto/scram.ts");
        passwords = ensurePrincipalPasswords(
          switches.secretsDir,
          principals.map((p) => p.username),
        );
        credentials = new Map(passwords.map((p) => [p.username, scramCredential(p.password, mechanism)]));
      }
      const { applyAccess } = await import("../../bus/kafka/access-admin.ts");
      const report = await applyAccess({
        brokers,
        security,
        principals,
        topics: [...allTopics(topicsFor(config.EVNET_TOPIC_PREFIX)), busCheckTopic(config.EVNET_TOPIC_PREFIX)],
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        credentials,
      });
      console.log(`topics created: ${report.createdTopics.length ? report.createdTopics.join(", ") : "none (all exist)"}`);
      for (const p of passwords) console.log(`principal ${p.username} (${mechanism}): password in ${p.file}${p.created ? " (new)" : ""}`);
      console.log(`${report.acls} ACLs in place for ${principals.length} principals`);
    },
  );
}
