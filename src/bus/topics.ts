/**
 * Every topic, declared once. Names are prefixed (EVNET_TOPIC_PREFIX, default `evnet`) so that
 * several networks or test runs can share one broker. Every CP-related message is keyed by the
 * CP id, so per-CP order holds and Central can scale out as a consumer group.
 */
export interface Topics {
  /** driver -> Central: charge and stop requests (key: CP id) */
  driverRequests: string;
  /** Central -> driver: authorisation, refusal, live progress, ticket (key: driver id) */
  driverUpdates: string;
  /** CP (engine, monitor) -> Central, sealed envelopes (key: CP id) */
  cpEvents: string;
  /** Central -> CP (engine, monitor), sealed envelopes (key: CP id) */
  cpCommands: string;
  /** API / weather / operator -> Central: authentication done, revocation, temperature, stop/resume (key: CP id or city) */
  centralControl: string;
  /** Messages a consumer set aside because they can never be applied, with where they came from and why (key: the original key) */
  deadLetters: string;
  /** Central -> API: the newest figures of sessions in progress, signed, for the live view (short retention: see topicConfigs) */
  centralLive: string;
}

export function topicsFor(prefix = "evnet"): Topics {
  const p = prefix ? `${prefix}.` : "";
  return {
    driverRequests: `${p}driver.requests`,
    driverUpdates: `${p}driver.updates`,
    cpEvents: `${p}cp.events`,
    cpCommands: `${p}cp.commands`,
    centralControl: `${p}central.control`,
    deadLetters: `${p}dead-letters`,
    centralLive: `${p}central.live`,
  };
}

/**
 * How long the live figures stay on the broker: a reader wants only the newest (an API starts
 * reading from the end), and a figure is replaced within a second. Kept a little longer so that an
 * API that lost the broker for a moment reads what it missed.
 */
export const LIVE_RETENTION_MS = 10 * 60_000;

/** Settings a topic is created with besides partitions and replicas (Kafka's names), by topic name. */
export function topicConfigs(topic: string): { name: string; value: string }[] {
  if (topic === "central.live" || topic.endsWith(".central.live"))
    return [
      { name: "retention.ms", value: String(LIVE_RETENTION_MS) },
      { name: "segment.ms", value: String(LIVE_RETENTION_MS / 2) },
    ];
  return [];
}

export function allTopics(t: Topics): string[] {
  return Object.values(t);
}
