/** One live hub per running API, shared by every stream client. */
import type { ApiContext } from "../context.ts";
import { servicesHealthOf } from "../health/for-context.ts";
import { createLiveHub, type LiveHub } from "./hub.ts";

const hubs = new WeakMap<ApiContext, LiveHub>();

export function liveHubOf(ctx: ApiContext): LiveHub {
  let hub = hubs.get(ctx);
  if (!hub) {
    hub = createLiveHub({ db: ctx.db, health: servicesHealthOf(ctx), log: ctx.log, liveVersion: ctx.live && (() => ctx.live!.version) });
    hubs.set(ctx, hub);
  }
  return hub;
}

/** Called when the role stops, before the database closes. */
export function stopLiveUpdates(ctx: ApiContext): void {
  hubs.get(ctx)?.close();
}
