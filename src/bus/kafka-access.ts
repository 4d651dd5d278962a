/**
 * Who may do what on a secured Kafka: one SASL principal per role, and the ACLs each needs,
 * declared once from the topic names and consumer-group names the roles really use. `evnet
 * kafka-acls` prints this table and applies it; the README's "Securing Kafka" explains it.
 *
 * Every principal may describe the network's topics (names and partitions, never contents) so
 * that a role's start-up check finds them; only Central and the API create them. CPs and drivers
 * may share one principal per class, or have one each (`--cp`, `--driver`): their consumer groups
 * are then theirs alone. What a CP or driver may say about another is refused by Central from the
 * message itself (sealed with the sender's own key), which no topic-level ACL can express.
 */
import { groupName } from "../roles/group-names.ts";
import { type Topics, topicsFor } from "./topics.ts";

export type Operation = "Read" | "Write" | "Create" | "Describe";

export interface Grant {
  resource: "topic" | "group";
  /** A name, or with `prefixed` every name that starts with it. */
  name: string;
  prefixed: boolean;
  operations: Operation[];
}

export interface Principal {
  /** The role(s) that log in as it. */
  role: string;
  username: string;
  grants: Grant[];
}

export interface AccessOptions {
  /** EVNET_TOPIC_PREFIX of the network. */
  topicPrefix: string;
  /** EVNET_CENTRAL_GROUP when it is not the default `<prefix>.central`. */
  centralGroup?: string;
  /** CP ids that get a principal each; none: one `<prefix>-cp` principal for every CP. */
  cps?: string[];
  /** Driver ids that get a principal each; none: one `<prefix>-driver` principal for every driver. */
  drivers?: string[];
}

/** The roles that never touch Kafka, and why (listed with the table, so nobody looks for them). */
export const ROLES_WITHOUT_KAFKA: Record<string, string> = {
  registry: "registers CPs over HTTPS; database only",
  weather: "reports temperatures to the API over HTTPS",
};

const topic = (name: string, ...operations: Operation[]): Grant => ({ resource: "topic", name, prefixed: false, operations });
const group = (name: string, prefixed: boolean): Grant => ({ resource: "group", name, prefixed, operations: ["Read"] });

/** The topic `evnet bus-check` writes and reads back. */
export function busCheckTopic(topicPrefix: string): string {
  return topicPrefix ? `${topicPrefix}.bus-check` : "bus-check";
}

/** What every principal gets: the network's topics' metadata, and `evnet bus-check` from its machine. */
function common(prefix: string): Grant[] {
  const check = busCheckTopic(prefix);
  return [
    { resource: "topic", name: prefix ? `${prefix}.` : "", prefixed: true, operations: ["Describe"] },
    topic(check, "Read", "Write", "Create"),
    group(`${check}.`, true),
  ];
}

function principal(role: string, username: string, prefix: string, grants: Grant[]): Principal {
  return { role, username, grants: [...grants, ...common(prefix)] };
}

export function usernameFor(topicPrefix: string, role: string): string {
  return `${topicPrefix || "evnet"}-${role}`;
}

function cpGrants(t: Topics): Grant[] {
  // Read on driver requests: an engine stops on its own driver's stop request (with the session's proof).
  return [topic(t.cpEvents, "Write"), topic(t.cpCommands, "Read"), topic(t.driverRequests, "Read")];
}

function driverGrants(t: Topics): Grant[] {
  return [topic(t.driverRequests, "Write"), topic(t.driverUpdates, "Read")];
}

export function principalsFor(options: AccessOptions): Principal[] {
  const p = options.topicPrefix;
  const t = topicsFor(p);
  const allTopics: Grant = { resource: "topic", name: p ? `${p}.` : "", prefixed: true, operations: ["Create"] };
  const user = (role: string) => usernameFor(p, role);
  const cps = options.cps?.length
    ? options.cps.map((id) =>
        principal(`cp-engine, cp-monitor of ${id}`, user(`cp-${id}`), p, [
          ...cpGrants(t),
          group(groupName(p, "engine", id), false),
          group(groupName(p, "monitor", id), false),
        ]),
      )
    : [
        principal("cp-engine, cp-monitor (every CP)", user("cp"), p, [
          ...cpGrants(t),
          group(`${groupName(p, "engine")}.`, true),
          group(`${groupName(p, "monitor")}.`, true),
        ]),
      ];
  const drivers = options.drivers?.length
    ? options.drivers.map((id) => principal(`driver ${id}`, user(`driver-${id}`), p, [...driverGrants(t), group(groupName(p, "driver", id), false)]))
    : [principal("driver (every driver)", user("driver"), p, [...driverGrants(t), group(`${groupName(p, "driver")}.`, true)])];
  return [
    principal("central", user("central"), p, [
      topic(t.driverRequests, "Read", "Write"), // Write: replays of dead letters
      topic(t.cpEvents, "Read", "Write"), // Write: its silence and deadline probes, replays of dead letters
      topic(t.centralControl, "Read", "Write"), // Write: `evnet central stop|resume|revoke`, replays of dead letters
      topic(t.driverUpdates, "Write"),
      topic(t.cpCommands, "Write"),
      topic(t.deadLetters, "Write"), // the messages it sets aside
      topic(t.centralLive, "Write"), // sessions' newest figures for the API's live view
      group(options.centralGroup ?? groupName(p, "central"), false),
      allTopics,
    ]),
    principal("api", user("api"), p, [topic(t.centralControl, "Write"), topic(t.centralLive, "Read"), group(`${groupName(p, "api-live")}.`, true), allTopics]),
    ...cps,
    ...drivers,
    principal("ocpp (gateway for OCPP chargers)", user("ocpp"), p, [...cpGrants(t), ...driverGrants(t), group(`${groupName(p, "ocpp")}`, true)]),
  ];
}

/** One line per grant, for the table `evnet kafka-acls` prints. */
export function describeGrant(g: Grant): string {
  return `${g.operations.join(", ")} on ${g.resource} ${g.prefixed ? `${g.name}*` : g.name}`;
}
