/** One services-health cache per running API (shared by the REST route and the live stream). */
import type { ApiContext } from "../context.ts";
import { cachedServicesHealth, type ServicesHealthCache } from "./services.ts";

const caches = new WeakMap<ApiContext, ServicesHealthCache>();

export function servicesHealthOf(ctx: ApiContext): ServicesHealthCache {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = cachedServicesHealth({
      db: ctx.db,
      bus: ctx.bus,
      probeTopic: ctx.topics.centralControl,
      registry: { url: ctx.config.REGISTRY_URL, caFile: ctx.config.EVNET_CA_FILE },
      startedAt: ctx.startedAt,
    });
    caches.set(ctx, cache);
  }
  return cache;
}
