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
  };
}

export function allTopics(t: Topics): string[] {
  return Object.values(t);
}
