/**
 * Central's commands reach whichever gateway holds the charger's socket: every gateway reads
 * the whole commands topic (its own consumer group, from the latest), and only the one with
 * the charger connected opens the message, with that charger's key. Commands sealed for a
 * charger while it was connected nowhere are not replayed to it later: Central's start times
 * out, and a stop finds nothing to stop (the charger reports its own end).
 */
import { sql } from "drizzle-orm";
import type { Subscription } from "../../bus/bus.ts";
import { eachMessage } from "../../bus/each-message.ts";
import { keepSubscribed } from "../../bus/keep-subscribed.ts";
import { rowsOf } from "../../db/client.ts";
import { groupName } from "../group-names.ts";
import type { GatewayContext } from "./context.ts";

export function followCommands(ctx: GatewayContext): Subscription & { ready: Promise<void> } {
  return keepSubscribed(
    ctx.bus,
    { topics: [ctx.topics.cpCommands], groupId: groupName(ctx.config.EVNET_TOPIC_PREFIX, "ocpp", ctx.instance), from: "latest" },
    (batch) =>
      eachMessage(
        batch,
        async (m) => {
          const link = ctx.links.get(m.key);
          if (!link) return;
          const opened = await link.channel.open(m);
          if (opened.ok) link.command(opened.payload);
          else if (opened.code !== "unknown_key")
            ctx.log.warn("refused a message on the commands topic", { cp_id: m.key, code: opened.code, reason: opened.reason });
        },
        ctx.log,
      ),
    ctx.log,
  );
}

/**
 * Every few seconds: a charger whose key is no longer its active one (revoked by an operator,
 * or superseded because the charger connected again at another gateway) loses this socket.
 */
export function watchKeys(ctx: GatewayContext, everyMs: number): { stop(): void } {
  let running = false;
  const check = async () => {
    if (running || ctx.links.size === 0) return;
    running = true;
    try {
      const ids = [...ctx.links.keys()];
      const active = new Map(
        rowsOf<{ cp_id: string; key_id: string }>(
          await ctx.db.execute(sql`select cp_id, key_id from cp_keys where cp_id = any(${sql.param(ids)}::text[]) and revoked_at is null`),
        ).map((r) => [r.cp_id, r.key_id]),
      );
      for (const id of ids) {
        const link = ctx.links.get(id);
        if (!link || active.get(id) === link.keyId) continue;
        ctx.log.warn("the charger's key is no longer its active one: closing this connection", {
          cp_id: id,
          key_id: link.keyId,
          active: active.get(id) ?? null,
        });
        ctx.links.delete(id);
        ctx.keys.forget(id, link.keyId);
        link.close(1008, active.has(id) ? "connected elsewhere" : "key revoked: connect again");
      }
    } catch (err) {
      ctx.log.warn("could not check the chargers' keys", { err });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
