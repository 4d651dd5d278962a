/**
 * A group member's offset commit that the coordinator answers after the member has joined a newer
 * generation (ILLEGAL_GENERATION) must not make it join again: when that member leads the group,
 * its join starts another rebalance, and a member that always has a commit on its way (Central
 * draining a backlog) then keeps its group rebalancing (src/bus/kafka/group-consumer.ts).
 *
 * The stale answer is made to happen, not hoped for: member A leads a group whose other member C
 * notices a rebalance only at its next heartbeat, five seconds apart; when B joins, A joins at
 * once and waits for C, and a commit A sends meanwhile is queued behind its JoinGroup on the
 * coordinator's connection (the broker answers a connection's requests in order), so it is
 * answered under the generation A has just left.
 */

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tracingChannel } from "node:diagnostics_channel";
import { Consumer } from "@platformatic/kafka";
import { type BusMessage, textDecoder } from "../../src/bus/bus.ts";
import { GroupConsumer, StaleCommitError } from "../../src/bus/kafka/group-consumer.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";
import type { Logger } from "../../src/lib/log.ts";
import { kafkaBrokers, testTopicPrefix } from "../support/services.ts";
import { waitFor } from "../support/wait.ts";

setDefaultTimeout(60_000);

const prefix = testTopicPrefix();
const bus = new KafkaBus({ brokers: kafkaBrokers(), clientId: "evnet-test-rejoin", partitions: 2 });
afterAll(() => bus.close());

type Member = Consumer<Buffer, Buffer, Buffer, Buffer>;
type MemberClass = new (options: ConstructorParameters<typeof GroupConsumer>[0]) => Member;
/** What the client tells the "consumer:group" tracing channel when a group operation starts. */
interface GroupOperation {
  client?: { clientId?: string };
  operation?: string;
}
const groupOperations = tracingChannel<GroupOperation, GroupOperation>("plt:kafka:consumer:group");

interface Outcome {
  /** What A's commit sent during its join came to. */
  commit: "committed" | Error;
  /** A's joins from B's arrival until the group had been quiet for a while. */
  joinsOfA: number;
  generations: { before: number; after: number };
}

async function staleCommit(Member: MemberClass, name: string): Promise<Outcome> {
  const topic = `${prefix}.${name}`;
  const groupId = `${prefix}-${name}`;
  await bus.ensureTopics([topic]);
  await bus.publish(topic, [{ key: "CP_1", value: "x" }]);
  const member = (clientId: string, heartbeatInterval: number) => {
    const m = new Member({
      clientId,
      bootstrapBrokers: kafkaBrokers(),
      groupId,
      sessionTimeout: 20_000,
      rebalanceTimeout: 25_000,
      heartbeatInterval,
      autocommit: false,
      retries: 2,
      retryDelay: 250,
    });
    m.on("error", () => {}); // background failures while closing; unheard, they end the process
    return m;
  };
  const a = member(`${name}-a`, 200);
  const c = member(`${name}-c`, 5_000);
  const b = member(`${name}-b`, 200);
  const streams: { close(): Promise<void> }[] = [];
  const consume = async (m: Member) => streams.push(await m.consume({ topics: [topic], mode: "earliest", autocommit: false }));
  let joinsOfA = 0;
  a.on("consumer:group:join", () => joinsOfA++);

  let committing: Promise<"committed" | Error> | undefined;
  let cWasBehind = false;
  const onStart = (context: GroupOperation) => {
    if (committing || context.client !== a || context.operation !== "joinGroup") return;
    // A is joining and waits for C: a commit now is answered after the join, under the old generation.
    const cBefore = c.generationId;
    committing = Bun.sleep(300).then(() => {
      cWasBehind = c.generationId === cBefore; // C has not joined yet: A's JoinGroup is still waiting
      return a.commit({ offsets: [{ topic, partition: 0, offset: 1n, leaderEpoch: 0 }] }).then(
        () => "committed" as const,
        (err: Error) => err,
      );
    });
  };
  try {
    await consume(a);
    await consume(c);
    await waitFor(() => a.generationId > 0 && a.generationId === c.generationId && (c.assignments?.length ?? 0) > 0, "A and C in one generation");
    await Bun.sleep(500);
    const before = a.generationId;
    joinsOfA = 0;
    groupOperations.subscribe({ start: onStart });
    await consume(b);
    await waitFor(() => committing !== undefined, "A to start joining");
    const commit = await committing!;
    expect(cWasBehind).toBe(true);
    // Long enough for C's heartbeat (every 5 s) to notice one more rebalance, twice over.
    await Bun.sleep(10_000);
    console.log(
      `${name}: A joined ${joinsOfA} times, generation ${before} → ${a.generationId}; the commit: ${commit instanceof Error ? commit.message : commit}`,
    );
    return { commit, joinsOfA, generations: { before, after: a.generationId } };
  } finally {
    groupOperations.unsubscribe({ start: onStart });
    await Promise.all(streams.map((s) => s.close().catch(() => {})));
    await Promise.all([a, b, c].map((m) => m.close(true).catch(() => {})));
  }
}

describe("an offset commit answered after its member joined a newer generation", () => {
  test("fails as stale and the leader does not join again: one rebalance for one new member", async () => {
    const outcome = await staleCommit(GroupConsumer, "fixed");
    expect(outcome.commit).toBeInstanceOf(StaleCommitError);
    expect((outcome.commit as Error).message).toContain(`sent under generation ${outcome.generations.before}`);
    expect(outcome.joinsOfA).toBe(1);
    expect(outcome.generations.after).toBe(outcome.generations.before + 1);
  });

  test("makes the client's own consumer join again (what GroupConsumer is there for)", async () => {
    // If this starts failing after an upgrade of @platformatic/kafka, the client reads such answers
    // as the Java client does now, and GroupConsumer's rules may go.
    const outcome = await staleCommit(Consumer as unknown as MemberClass, "plain");
    // The commit itself may go through after the rejoin or fail again with the next generation.
    expect(outcome.commit).not.toBeInstanceOf(StaleCommitError);
    expect(outcome.joinsOfA).toBeGreaterThanOrEqual(2);
    expect(outcome.generations.after).toBeGreaterThanOrEqual(outcome.generations.before + 2);
  });
});

describe("a subscription whose offset commit a rebalance turned away", () => {
  test("commits it after the rebalance for the partitions it kept, and is not handed the messages again", async () => {
    const topic = `${prefix}.requeue`;
    const groupId = `${prefix}-requeue`;
    const logged: string[] = [];
    const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
    const capture: Logger = { ...quiet, debug: (msg) => logged.push(msg), warn: (msg) => logged.push(msg), child: () => capture };
    const member = (clientId: string, heartbeatIntervalMs: number, log: Logger) =>
      new KafkaBus({ brokers: kafkaBrokers(), clientId, partitions: 2, sessionTimeoutMs: 10_000, heartbeatIntervalMs, log });
    const a = member(`${prefix}-requeue-a`, 200, capture);
    const c = member(`${prefix}-requeue-c`, 3_000, quiet);
    const b = member(`${prefix}-requeue-b`, 200, quiet);
    // A holds its "hold" message until 300 ms into its join (which waits for C's heartbeat), so the
    // commit that follows travels behind the JoinGroup and is answered under the old generation.
    let releaseHold!: () => void;
    const held = new Promise<void>((resolve) => (releaseHold = resolve));
    const onStart = (context: GroupOperation) => {
      if (context.operation === "joinGroup" && context.client?.clientId?.startsWith(`${prefix}-requeue-a-`)) void Bun.sleep(300).then(releaseHold);
    };
    const seenByA: string[] = [];
    let joinsOfA = 0;
    const offsetsSeenByA: string[] = [];
    const options = { topics: [topic], groupId, from: "earliest" as const, copartitioned: true };
    try {
      await a.ensureTopics([topic]);
      await a.subscribe({ ...options, onGroupJoin: () => joinsOfA++ }, async (batch: BusMessage[]) => {
        for (const m of batch) {
          const value = textDecoder.decode(m.value);
          seenByA.push(value);
          offsetsSeenByA.push(`${m.partition}:${m.offset}`);
          if (value === "hold") await held;
        }
      });
      await c.subscribe(options, async () => {});
      await Bun.sleep(1_000); // A and C share the two partitions
      // One "hold" per partition (keys of both partitions among the 8): A's is held, C's is not.
      await a.publish(
        topic,
        Array.from({ length: 8 }, (_, i) => ({ key: `CP_Q${i}`, value: "hold" })),
      );
      await waitFor(() => seenByA.includes("hold"), "A to be handed a message to hold");
      groupOperations.subscribe({ start: onStart });
      await b.subscribe(options, async () => {});
      await waitFor(() => logged.includes("offset commit met a rebalance; sending it again after it"), "A's commit to be turned away by the rebalance", {
        timeoutMs: 20_000,
      });
      await waitFor(async () => (await a.lag(groupId, [topic])).total === 0, "the group's lag down to 0 after the rebalance", { timeoutMs: 20_000 });
      expect(logged).not.toContain("offset commit failed; these messages may be delivered again");
      // A joined three times, as the group changed: alone, with C, with B; the turned-away commit added none.
      await Bun.sleep(3_000);
      expect(joinsOfA).toBe(3);
      // A kept its partition (the co-partitioned assignment keeps what a member held) and read nothing twice.
      expect(offsetsSeenByA.length).toBeGreaterThan(0);
      expect(new Set(offsetsSeenByA).size).toBe(offsetsSeenByA.length);
    } finally {
      groupOperations.unsubscribe({ start: onStart });
      releaseHold();
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
