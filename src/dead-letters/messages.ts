/**
 * How a dead letter travels on the bus: on the dead-letter topic, the original key, value and
 * headers, plus headers that say where it came from, when and why it was set aside; and back on
 * its original topic when an operator replays it, marked with the letter it replays (the
 * consumer applies such a copy once, and only while that letter awaits its replay).
 */
import type { OutgoingMessage } from "../bus/bus.ts";
import type { DeadLetterRow } from "../db/schema/index.ts";

export const DEAD_LETTER_HEADERS = {
  id: "evnet-dead-letter-id",
  topic: "evnet-dead-letter-topic",
  partition: "evnet-dead-letter-partition",
  offset: "evnet-dead-letter-offset",
  consumer: "evnet-dead-letter-consumer",
  at: "evnet-dead-letter-at",
  code: "evnet-dead-letter-code",
  reason: "evnet-dead-letter-reason",
} as const;

/** On a replayed copy: the id of the dead letter it replays. */
export const REPLAY_OF_HEADER = "evnet-replay-of";

const decoder = new TextDecoder();

/** The headers a message carried before it was set aside (those a replay added are not its own). */
export function ownHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (k !== REPLAY_OF_HEADER) own[k] = v;
  return own;
}

export function deadLetterMessage(row: DeadLetterRow): OutgoingMessage {
  return {
    key: decoder.decode(row.key),
    value: row.value,
    headers: {
      ...ownHeaders(row.headers ?? undefined),
      [DEAD_LETTER_HEADERS.id]: String(row.id),
      [DEAD_LETTER_HEADERS.topic]: row.topic,
      [DEAD_LETTER_HEADERS.partition]: String(row.partition),
      [DEAD_LETTER_HEADERS.offset]: String(row.offset),
      [DEAD_LETTER_HEADERS.consumer]: row.consumer,
      [DEAD_LETTER_HEADERS.at]: row.setAsideAt.toISOString(),
      [DEAD_LETTER_HEADERS.code]: row.code,
      [DEAD_LETTER_HEADERS.reason]: row.reason,
    },
  };
}

export function replayMessage(row: DeadLetterRow): OutgoingMessage {
  return { key: decoder.decode(row.key), value: row.value, headers: { ...ownHeaders(row.headers ?? undefined), [REPLAY_OF_HEADER]: String(row.id) } };
}

/** The replayed letter's id a message claims, if it claims one. */
export function replayOf(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.[REPLAY_OF_HEADER];
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
