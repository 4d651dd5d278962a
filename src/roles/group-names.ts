/**
 * Consumer-group names carry the topic prefix: two networks (or two test runs) sharing a broker
 * must not share groups, or every join in one would rebalance, and stall, the other.
 */
export function groupName(topicPrefix: string, ...parts: string[]): string {
  return [topicPrefix || "evnet", ...parts].join(".");
}
