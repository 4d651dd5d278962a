/**
 * How an operator sees a dead letter (API and CLI alike): where it came from, why it was set
 * aside, and its bytes as text when they are text (control characters escaped, so nothing
 * invisible reaches a terminal), else base64.
 */
import * as v from "valibot";
import type { DeadLetterRow } from "../db/schema/index.ts";
import { escapeControls } from "../domain/ids.ts";

export const deadLetterSchema = v.object({
  id: v.number(),
  set_aside_at: v.string(),
  consumer: v.string(),
  topic: v.string(),
  partition: v.number(),
  offset: v.string(),
  key: v.string(),
  code: v.pipe(v.string(), v.description("validation, a PostgreSQL SQLSTATE (22P05, 23514...) or error")),
  reason: v.string(),
  status: v.pipe(v.string(), v.description("set_aside, replaying, replayed or replay_failed")),
  published_at: v.nullable(v.string()),
  replay_requested_at: v.nullable(v.string()),
  replay_requested_by: v.nullable(v.string()),
  replayed_at: v.nullable(v.string()),
  replay_of: v.nullable(v.number()),
});
export type DeadLetterView = v.InferOutput<typeof deadLetterSchema>;

export const deadLetterDetailSchema = v.object({
  ...deadLetterSchema.entries,
  headers: v.record(v.string(), v.string()),
  value_encoding: v.picklist(["text", "base64"]),
  value: v.pipe(v.string(), v.description("the message as text (control characters escaped as \\uXXXX), or base64 when it is not UTF-8")),
});
export type DeadLetterDetail = v.InferOutput<typeof deadLetterDetailSchema>;

const strict = new TextDecoder("utf-8", { fatal: true });

function asText(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function deadLetterView(row: DeadLetterRow): DeadLetterView {
  const key = asText(row.key);
  return {
    id: row.id,
    set_aside_at: row.setAsideAt.toISOString(),
    consumer: row.consumer,
    topic: row.topic,
    partition: row.partition,
    offset: String(row.offset),
    key: key === undefined ? `base64:${Buffer.from(row.key).toString("base64")}` : escapeControls(key),
    code: row.code,
    reason: row.reason,
    status: row.status,
    published_at: iso(row.publishedAt),
    replay_requested_at: iso(row.replayRequestedAt),
    replay_requested_by: row.replayRequestedBy,
    replayed_at: iso(row.replayedAt),
    replay_of: row.replayOf,
  };
}

export function deadLetterDetail(row: DeadLetterRow): DeadLetterDetail {
  const text = asText(row.value);
  const headers = Object.fromEntries(Object.entries(row.headers ?? {}).map(([k, val]) => [escapeControls(k), escapeControls(val)]));
  return {
    ...deadLetterView(row),
    headers,
    value_encoding: text === undefined ? "base64" : "text",
    value: text === undefined ? Buffer.from(row.value).toString("base64") : escapeControls(text),
  };
}

export function formatDeadLetters(rows: DeadLetterView[]): string {
  if (rows.length === 0) return "(no dead letters)";
  return rows
    .map(
      (r) =>
        `${String(r.id).padEnd(6)} ${r.set_aside_at.slice(0, 19).replace("T", " ")}  ${r.status.padEnd(13)} ${r.topic}/${r.partition}@${r.offset}  ${r.code}: ${r.reason}`,
    )
    .join("\n");
}

export function formatDeadLetter(d: DeadLetterDetail): string {
  return [
    `dead letter   ${d.id} (${d.status})`,
    `set aside     ${d.set_aside_at} by ${d.consumer}`,
    `from          ${d.topic} partition ${d.partition} offset ${d.offset}`,
    `key           ${d.key}`,
    `why           ${d.code}: ${d.reason}`,
    `headers       ${Object.keys(d.headers).length ? JSON.stringify(d.headers) : "(none)"}`,
    d.replay_requested_at ? `replay asked  ${d.replay_requested_at} by ${d.replay_requested_by}` : "",
    d.replayed_at ? `replayed      ${d.replayed_at}` : "",
    d.replay_of ? `replay of     ${d.replay_of}` : "",
    `value (${d.value_encoding})`,
    d.value,
  ]
    .filter(Boolean)
    .join("\n");
}
