/**
 * A Kafka consumer-group member in its own process, so a test can kill it without it leaving
 * the group. Usage: bun tests/support/bus-member.ts <brokers> <topic> <group>
 * Prints `ready` once subscribed, then `got <key> <value>` for every message.
 */
import { textDecoder } from "../../src/bus/bus.ts";
import { KafkaBus } from "../../src/bus/kafka.ts";

const [brokers, topic, groupId] = process.argv.slice(2);
if (!brokers || !topic || !groupId) throw new Error("usage: bus-member.ts <brokers> <topic> <group>");
const bus = new KafkaBus({ brokers: brokers.split(","), clientId: "evnet-test-member", sessionTimeoutMs: 3_000, heartbeatIntervalMs: 500 });
await bus.subscribe({ topics: [topic], groupId }, async (batch) => {
  for (const m of batch) console.log(`got ${m.key} ${textDecoder.decode(m.value)}`);
});
console.log("ready");
