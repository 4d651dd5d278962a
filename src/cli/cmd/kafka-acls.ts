import type { CAC } from "cac";

interface KafkaAclsFlags {
  apply?: boolean;
  brokers?: string;
  topicPrefix?: string;
  centralGroup?: string;
  cp?: string;
  driver?: string;
  secretsDir: string;
  users?: boolean;
  mechanism?: string;
}

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
  cli
    .command("kafka-acls", "List each role's Kafka principal and ACLs; with --apply, create the topics, principals and ACLs on a secured broker")
    .option("--apply", "apply them, logged in as the broker's administrator (KAFKA_BROKERS, KAFKA_TLS_CA_FILE, KAFKA_SASL_*)")
    .option("--brokers <list>", "Kafka brokers host:port[,...] (env KAFKA_BROKERS)")
    .option("--topic-prefix <prefix>", "the network's topic prefix (env EVNET_TOPIC_PREFIX, default evnet)")
    .option("--central-group <name>", "Central's consumer group when not the default <prefix>.central (env EVNET_CENTRAL_GROUP)")
    .option("--cp <ids>", "CP ids that get a principal each, comma-separated (default: one principal for every CP)")
    .option("--driver <ids>", "driver ids that get a principal each, comma-separated (default: one principal for every driver)")
    .option("--secrets-dir <dir>", "where each principal's password file is kept (made when missing)", { default: "kafka-secrets" })
    .option("--no-users", "leave the principals to whoever manages the broker's users; apply the topics and ACLs only")
    .option("--mechanism <name>", "SCRAM mechanism of the principals: SCRAM-SHA-512 or SCRAM-SHA-256", { default: "SCRAM-SHA-512" })
    .example("evnet kafka-acls")
    .example("KAFKA_SASL_USERNAME=evnet-admin KAFKA_SASL_PASSWORD_FILE=admin.password evnet kafka-acls --apply --cp CP_001,CP_002")
    .action(async (flags: KafkaAclsFlags) => {
      const v = await import("valibot");
      const { loadConfig } = await import("../../config/env.ts");
      const { busEntries } = await import("../../config/common.ts");
      const { AppError } = await import("../../lib/errors.ts");
      const { describeGrant, principalsFor, ROLES_WITHOUT_KAFKA, busCheckTopic } = await import("../../bus/kafka-access.ts");
      const config = loadConfig(v.object({ ...busEntries, EVNET_CENTRAL_GROUP: v.optional(v.pipe(v.string(), v.minLength(1))) }), {
        KAFKA_BROKERS: flags.brokers,
        EVNET_TOPIC_PREFIX: flags.topicPrefix,
        EVNET_CENTRAL_GROUP: flags.centralGroup,
      });
      if (flags.mechanism !== "SCRAM-SHA-512" && flags.mechanism !== "SCRAM-SHA-256")
        throw new AppError("bad_request", `--mechanism must be SCRAM-SHA-512 or SCRAM-SHA-256 (got ${JSON.stringify(flags.mechanism)})`);
      const { isId } = await import("../../domain/ids.ts");
      const bad = [...list(flags.cp), ...list(flags.driver)].filter((id) => !isId(id));
      if (bad.length) throw new AppError("bad_request", `not a CP or driver id: ${bad.map((id) => JSON.stringify(id)).join(", ")}`);
      const principals = principalsFor({
        topicPrefix: config.EVNET_TOPIC_PREFIX,
        centralGroup: config.EVNET_CENTRAL_GROUP,
        cps: list(flags.cp),
        drivers: list(flags.driver),
      });
      for (const p of principals) {
        console.log(`User:${p.username}  (${p.role})`);
        for (const g of p.grants) console.log(`  ${describeGrant(g)}`);
      }
      for (const [role, why] of Object.entries(ROLES_WITHOUT_KAFKA)) console.log(`no principal for ${role}: ${why}`);
      if (!flags.apply) {
        console.log("add --apply to create them on the broker (as its administrator)");
        return;
      }
      if (!config.KAFKA_BROKERS) throw new AppError("bad_request", "--apply needs Kafka: set KAFKA_BROKERS or pass --brokers host:port");
      const { kafkaSecurityFrom } = await import("../../bus/kafka-security.ts");
      const security = kafkaSecurityFrom(config);
      const { allTopics, topicsFor } = await import("../../bus/topics.ts");
      let credentials: Map<string, import("../../crypto/scram.ts").ScramCredential> | undefined;
      let passwords: import("../../bus/kafka/principal-passwords.ts").PrincipalPassword[] = [];
      if (flags.users !== false) {
        const { ensurePrincipalPasswords } = await import("../../bus/kafka/principal-passwords.ts");
        const { scramCredential } = await import("../../crypto/scram.ts");
        passwords = ensurePrincipalPasswords(
          flags.secretsDir,
          principals.map((p) => p.username),
        );
        credentials = new Map(passwords.map((p) => [p.username, scramCredential(p.password, flags.mechanism as "SCRAM-SHA-512")]));
      }
      const { applyAccess } = await import("../../bus/kafka/access-admin.ts");
      const report = await applyAccess({
        brokers: config.KAFKA_BROKERS,
        security,
        principals,
        topics: [...allTopics(topicsFor(config.EVNET_TOPIC_PREFIX)), busCheckTopic(config.EVNET_TOPIC_PREFIX)],
        partitions: config.KAFKA_TOPIC_PARTITIONS,
        credentials,
      });
      console.log(`topics created: ${report.createdTopics.length ? report.createdTopics.join(", ") : "none (all exist)"}`);
      for (const p of passwords) console.log(`principal ${p.username} (${flags.mechanism}): password in ${p.file}${p.created ? " (new)" : ""}`);
      console.log(`${report.acls} ACLs in place for ${principals.length} principals`);
    });
}
