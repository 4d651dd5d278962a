/**
 * A consumer-group assignment for topics keyed alike (Central's: driver requests, CP events,
 * control messages, all keyed by CP id with the same partition count). Kafka's usual assignors
 * count partitions across topics, so partition 0 of one topic and partition 0 of another may go
 * to different members: one Central would then apply a CP's events while another decides its
 * driver requests. Here the unit handed out is a partition NUMBER: partition N of every
 * subscribed topic goes to the same member.
 *
 * Numbers are spread evenly (no member has two more than another) and, where the balance allows,
 * each member keeps the numbers it held before the rebalance (it tells the leader in its
 * subscription's user data): a Central that joins or leaves moves as few CPs as possible.
 */
import type {
  ClusterMetadata,
  ExtendedGroupProtocolSubscription,
  GroupAssignment,
  GroupPartitionsAssignments,
  GroupProtocolSubscription,
} from "@platformatic/kafka";

/** The protocol name members advertise; a group only uses it when every member offers it. */
export const COPARTITION_PROTOCOL = "evnet-copartition";

/**
 * The group options of a co-partitioned consumer. `owned` says which partition numbers this
 * member holds now (or held last), sent with each join so the leader can leave them in place.
 * Round robin is offered second, so that a group still holding members of an older version
 * can form (its leader decides then; once every member offers this protocol, it is used).
 */
export function copartitionGroupOptions(owned: () => number[]) {
  const protocols: GroupProtocolSubscription[] = [
    { name: COPARTITION_PROTOCOL, version: 1 },
    { name: "roundrobin", version: 1 },
  ];
  return {
    protocols,
    protocolsMetadata: () => encodeOwned(owned()),
    partitionAssigner: (_current: string, members: Map<string, ExtendedGroupProtocolSubscription>, topics: Set<string>, metadata: ClusterMetadata) =>
      assignCopartitioned(
        [...members.values()].map((m) => ({ memberId: m.memberId, topics: m.topics ?? [...topics], owned: decodeOwned(m.metadata) })),
        new Map([...topics].map((t) => [t, metadata.topics.get(t)?.partitionsCount ?? 0])),
      ),
  };
}

export function encodeOwned(numbers: number[]): Buffer {
  return Buffer.from(JSON.stringify({ owned: [...new Set(numbers)].sort((a, b) => a - b) }));
}

/** The numbers a member says it owns; nothing when its user data is not ours (another version). */
export function decodeOwned(data: Buffer | string | undefined | null): number[] {
  if (!data || data.length === 0) return [];
  try {
    const parsed = JSON.parse(typeof data === "string" ? data : data.toString("utf8")) as { owned?: unknown };
    return Array.isArray(parsed.owned) ? parsed.owned.filter((n): n is number => Number.isInteger(n) && n >= 0) : [];
  } catch {
    return [];
  }
}

export interface MemberSubscription {
  memberId: string;
  topics: string[];
  /** Partition numbers it held before this rebalance. */
  owned: number[];
}

/**
 * Which partition numbers each member gets: evenly spread, sticky where the balance allows.
 * Members are taken in id order, so that the same group always gets the same answer.
 */
export function spreadNumbers(count: number, members: { memberId: string; owned: number[] }[]): Map<string, number[]> {
  const order = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, number[]>(order.map((m) => [m.memberId, []]));
  if (order.length === 0) return result;
  const base = Math.floor(count / order.length);
  let extra = count % order.length; // this many members may hold one more than `base`
  const taken = new Set<number>();
  // First, what each member held, up to the even share.
  for (const m of order) {
    const mine = result.get(m.memberId)!;
    for (const n of [...new Set(m.owned)].sort((a, b) => a - b)) {
      if (n >= count || taken.has(n) || mine.length >= base) continue;
      mine.push(n);
      taken.add(n);
    }
  }
  // Then one more held number for members allowed one above the share.
  for (const m of order) {
    if (extra === 0) break;
    const mine = result.get(m.memberId)!;
    const more = m.owned.find((n) => n < count && !taken.has(n));
    if (more === undefined || mine.length !== base) continue;
    mine.push(more);
    taken.add(more);
    extra--;
  }
  // The rest go, lowest number first, to whoever holds fewest (ties: id order).
  for (let n = 0; n < count; n++) {
    if (taken.has(n)) continue;
    let target: number[] | undefined;
    for (const m of order) {
      const mine = result.get(m.memberId)!;
      const cap = base + (extra > 0 || mine.length > base ? 1 : 0);
      if (mine.length >= cap) continue;
      if (!target || mine.length < target.length) target = mine;
    }
    target ??= result.get(order[0]!.memberId)!; // unreachable with the caps above; never lose a partition
    if (target.length === base) extra--;
    target.push(n);
    taken.add(n);
  }
  for (const numbers of result.values()) numbers.sort((a, b) => a - b);
  return result;
}

/**
 * Partition N of every topic to the member that got number N. A topic some members do not
 * subscribe to (a group in the middle of an upgrade) goes, number by number, to the owner of
 * the number if it subscribes, else round robin among those that do.
 */
export function assignCopartitioned(members: MemberSubscription[], partitionsOf: Map<string, number>): GroupPartitionsAssignments[] {
  const count = Math.max(0, ...partitionsOf.values());
  const numbers = spreadNumbers(count, members);
  const ownerOf = new Map<number, string>();
  for (const [memberId, owned] of numbers) for (const n of owned) ownerOf.set(n, memberId);
  const out = new Map<string, Map<string, GroupAssignment>>(members.map((m) => [m.memberId, new Map()]));
  const give = (memberId: string, topic: string, partition: number) => {
    const byTopic = out.get(memberId)!;
    let a = byTopic.get(topic);
    if (!a) byTopic.set(topic, (a = { topic, partitions: [] }));
    a.partitions.push(partition);
  };
  for (const [topic, partitions] of [...partitionsOf].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId);
    if (subscribers.length === 0) continue;
    let next = 0;
    for (let p = 0; p < partitions; p++) {
      const owner = ownerOf.get(p);
      give(owner && subscribers.includes(owner) ? owner : subscribers[next++ % subscribers.length]!, topic, p);
    }
  }
  return [...out].map(([memberId, assignments]) => ({ memberId, assignments }));
}
