/**
 * Applies the access table (src/bus/kafka-access.ts) to a broker, logged in as an administrator:
 * creates the network's topics, creates or updates each principal's SCRAM credential, and adds
 * the ACLs. Each step is idempotent (an ACL or topic that exists is left as it is), so running it
 * again after adding CPs or drivers only adds what is new.
 */
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  alterUserScramCredentialsV0,
  Connection,
  type CreateAclsOptions,
  ResourcePatternTypes,
  ResourceTypes,
} from "@platformatic/kafka";
import type { ScramCredential } from "../../crypto/scram.ts";
import { kafkaConnectionSecurity } from "../kafka.ts";
import type { Grant, Principal } from "../kafka-access.ts";
import type { KafkaSecurity } from "../kafka-security.ts";
import { topicConfigs } from "../topics.ts";
import { closeWithin, describeKafkaError } from "./calls.ts";

export interface ApplyAccessOptions {
  brokers: string[];
  /** The administrator's connection (a super user of the broker). */
  security: KafkaSecurity;
  principals: Principal[];
  topics: string[];
  partitions: number;
  /** SCRAM credentials to create or update, by username; none: users are managed elsewhere. */
  credentials?: Map<string, ScramCredential>;
}

export interface AccessReport {
  createdTopics: string[];
  users: string[];
  acls: number;
}

const OPERATION = { Read: AclOperations.READ, Write: AclOperations.WRITE, Create: AclOperations.CREATE, Describe: AclOperations.DESCRIBE } as const;
const MECHANISM = { "SCRAM-SHA-256": 1, "SCRAM-SHA-512": 2 } as const;

export function aclsOf(principal: Principal): CreateAclsOptions["creations"] {
  return principal.grants.flatMap((g: Grant) =>
    g.operations.map((operation) => ({
      resourceType: g.resource === "topic" ? ResourceTypes.TOPIC : ResourceTypes.GROUP,
      resourceName: g.name,
      resourcePatternType: g.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: `User:${principal.username}`,
      host: "*",
      operation: OPERATION[operation],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

/** AlterUserScramCredentials has no high-level call in the client: one request on one connection. */
async function upsertCredentials(options: ApplyAccessOptions, credentials: Map<string, ScramCredential>): Promise<void> {
  const [host, port] = options.brokers[0]!.split(":");
  const connection = new Connection("evnet-kafka-acls-users", { connectTimeout: 5_000, ...kafkaConnectionSecurity(options.security) });
  try {
    await connection.connect(host!, Number(port));
    const upsertions = [...credentials].map(([name, c]) => ({
      name,
      mechanism: MECHANISM[c.mechanism],
      iterations: c.iterations,
      salt: c.salt,
      saltedPassword: c.saltedPassword,
    }));
    await alterUserScramCredentialsV0.api.async(connection, [], upsertions);
  } finally {
    await closeWithin(() => connection.close(), 2_000);
  }
}

export async function applyAccess(options: ApplyAccessOptions): Promise<AccessReport> {
  const admin = new Admin({
    clientId: "evnet-kafka-acls",
    bootstrapBrokers: options.brokers,
    connectTimeout: 5_000,
    timeout: 10_000,
    retries: 2,
    ...kafkaConnectionSecurity(options.security),
  });
  try {
    const existing = new Set(await admin.listTopics());
    const createdTopics = options.topics.filter((t) => !existing.has(t));
    for (const t of createdTopics) await admin.createTopics({ topics: [t], partitions: options.partitions, replicas: -1, configs: topicConfigs(t) });
    if (options.credentials?.size) await upsertCredentials(options, options.credentials);
    const creations = options.principals.flatMap(aclsOf);
    await admin.createAcls({ creations });
    return { createdTopics, users: [...(options.credentials?.keys() ?? [])], acls: creations.length };
  } catch (err) {
    throw new Error(`cannot apply the Kafka access table at ${options.brokers.join(",")}: ${describeKafkaError(err)}`, { cause: err });
  } finally {
    await closeWithin(() => admin.close(), 5_000);
  }
}
